// Drives Segment's own Pushwoosh (Actions) destination, as published, with its preset (default) mappings.
// usage: node pushwoosh_destination.js DESTINATION_DIR CAPTURE_URL single|batch EVENTS_JSON_FILE
// Every request the destination makes goes to CAPTURE_URL (same path, headers and body); prints a JSON
// report: per event (single) or per batch (batch), "sent" or the destination's refusal text.
'use strict'
const fs = require('fs')
const path = require('path')

const [destinationDir, captureUrl, mode, eventsFile] = process.argv.slice(2)
const core = require('@segment/actions-core')
const fetchModule = require(path.join(path.dirname(require.resolve('@segment/actions-core')), 'fetch.js'))
const realFetch = fetchModule.default
fetchModule.default = (request) => {
  const url = new URL(request.url)
  return realFetch(new fetchModule.Request(captureUrl + url.pathname + url.search, request))
}

const definition = require(destinationDir).default
const destination = new core.Destination(definition)
const settings = { pushwooshAPIKey: 'KEY123', pushwooshAppCode: 'ABCDE-12345' }
const ACTIONS = { track: 'trackEvent', page: 'trackEvent', screen: 'trackEvent', identify: 'updateUserProfile' }
const presets = Object.fromEntries(definition.presets.map((preset) => [preset.partnerAction, preset.mapping]))

async function main() {
  const events = JSON.parse(fs.readFileSync(eventsFile, 'utf8'))
  const coreRoot = path.join(path.dirname(require.resolve('@segment/actions-core')), '..', '..')
  const { version } = JSON.parse(fs.readFileSync(path.join(coreRoot, 'package.json'), 'utf8'))
  const report = { version, results: [] }
  if (mode === 'single') {
    for (const event of events) {
      const slug = ACTIONS[event.type]
      try {
        await destination.executeAction(slug, { event, mapping: presets[slug], settings })
        report.results.push({ sent: true })
      } catch (error) {
        report.results.push({ sent: false, reason: error.message })
      }
    }
  } else {
    const mapping = { ...presets.trackEvent, enable_batching: true }
    for (const batch of events) {
      const statuses = await destination.executeBatch('trackEvent', { events: batch, mapping, settings })
      report.results.push(statuses.map((status) => (status && status.errormessage ? status.errormessage : null)))
    }
  }
  process.stdout.write(JSON.stringify(report))
}

main().catch((error) => {
  process.stderr.write(String((error && error.stack) || error))
  process.exit(1)
})
