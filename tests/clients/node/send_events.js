// Drives the official @segment/analytics-node SDK against a Segment host and prints, as JSON, every
// event exactly as the SDK built it (messageId, context.library, ...), so the test can compare them
// with what the fake received. Usage: node send_events.js <host> <writeKey>
"use strict"
const { Analytics } = require("@segment/analytics-node")

const [host, writeKey] = process.argv.slice(2)
// flushAt 3 and a flush interval longer than the run: batches are cut by count only (3, 3, then
// the remaining 2 at closeAndFlush), never by a timer, so the run is deterministic.
const analytics = new Analytics({ writeKey, host, path: "/v1/batch", flushAt: 3, flushInterval: 600000, maxRetries: 0 })

const sent = []
const failures = []
const keep = (err, ctx) => (err ? failures.push(String(err.reason || err)) : sent.push(ctx.event))

analytics.identify({ userId: "node-user-1", traits: { searched_product: "trail shoes", plan: "gold" } }, keep)
analytics.track({ userId: "node-user-1", event: "Product Searched", properties: { query: "trail shoes" } }, keep)
analytics.track({ anonymousId: "anon-7", event: "Viewed Home", properties: { step: 1 } }, keep)
for (let i = 1; i <= 5; i++) {
  analytics.track({ userId: `node-user-${i}`, event: "Order Completed", properties: { order_id: `o-${i}`, total: i * 10.5 } }, keep)
}

analytics.closeAndFlush({ timeout: 30000 }).then(() => {
  process.stdout.write(JSON.stringify({ version: analytics.VERSION, sent, failures }))
})
