// Pushwoosh's Web SDK as an app loads it from npm (docs/point-your-app.md shows this file); the app then runs
// the `swoosh env --sdk pushwoosh-web` snippet, `Pushwoosh.push(["init", {...}])`, against this instance.
import { Pushwoosh } from "web-push-notifications"

window.Pushwoosh = new Pushwoosh()
