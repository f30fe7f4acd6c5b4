// analytics.js pointed at swoosh in dev builds only (docs/point-your-app.md shows this file).
import { AnalyticsBrowser } from "@segment/analytics-next"

// The dev build defines SWOOSH_SEGMENT_URL (e.g. esbuild --define:process.env.SWOOSH_SEGMENT_URL='"http://127.0.0.1:8001"');
// the production build defines it as "" and the SDK talks to Segment as usual.
const swooshUrl = process.env.SWOOSH_SEGMENT_URL

export function loadAnalytics(writeKey, segmentIo = {}) {
  if (!swooshUrl) return AnalyticsBrowser.load({ writeKey }, { integrations: { "Segment.io": segmentIo } })
  const { protocol, host } = new URL(swooshUrl)
  return AnalyticsBrowser.load(
    { writeKey, cdnURL: swooshUrl }, // the settings call goes to the fake
    { integrations: { "Segment.io": { apiHost: `${host}/v1`, protocol: protocol.slice(0, -1), ...segmentIo } } },
  )
}
