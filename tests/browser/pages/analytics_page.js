// The test page's script: the app's module as docs/point-your-app.md shows it, reachable from the tests.
import { loadAnalytics } from "./analytics.js"

window.loadAnalytics = loadAnalytics
