// Stands in for the browser's push service, which headless Chromium cannot reach here: pushManager.subscribe()
// answers a subscription with a real P-256 p256dh key and auth secret and an endpoint on the page's origin,
// and remembers the applicationServerKey it was asked with. Injected by the test only; swoosh never needs it.
(() => {
  let current = null
  const asBase64Url = (bytes) =>
    btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")
  window.swooshPushService = { serverKeys: [] }
  PushManager.prototype.subscribe = async function subscribe(options) {
    window.swooshPushService.serverKeys.push(asBase64Url(options.applicationServerKey))
    const pair = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"])
    const keys = { p256dh: await crypto.subtle.exportKey("raw", pair.publicKey), auth: crypto.getRandomValues(new Uint8Array(16)).buffer }
    const endpoint = `${location.origin}/push-service/${crypto.randomUUID()}`
    current = {
      endpoint,
      expirationTime: null,
      options,
      getKey: (name) => keys[name] ?? null,
      unsubscribe: async () => { current = null; return true },
      toJSON: () => ({ endpoint, expirationTime: null, keys: { p256dh: asBase64Url(keys.p256dh), auth: asBase64Url(keys.auth) } }),
    }
    return current
  }
  PushManager.prototype.getSubscription = async function getSubscription() { return current }
  PushManager.prototype.permissionState = async function permissionState() { return "granted" }
})()
