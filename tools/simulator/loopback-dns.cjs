'use strict';
/**
 * Loaded with `node --require` in the processes that talk to the simulator (tools/with-simulator-ca.mjs):
 * names under `.localhost` resolve to 127.0.0.1, as RFC 6761 reserves them for loopback (browsers and
 * systemd-resolved already do this; glibc does not). It lets the simulated Key Vault live at
 * `https://<name>.vault.localhost:<port>`, so the Key Vault SDK's real challenge-resource check
 * (the vault host must end with `.vault.localhost`, as a real one ends with `.vault.azure.net`) stays on.
 * Any other name goes to the real resolver.
 */
const dns = require('node:dns');

const original = dns.lookup;
function isLocalhostName(hostname) {
  return typeof hostname === 'string' && hostname.toLowerCase().endsWith('.localhost');
}
dns.lookup = function lookup(hostname, options, callback) {
  if (!isLocalhostName(hostname)) return original.apply(this, arguments);
  const cb = typeof options === 'function' ? options : callback;
  const opts = typeof options === 'object' && options !== null ? options : {};
  if (opts.all) process.nextTick(cb, null, [{ address: '127.0.0.1', family: 4 }]);
  else process.nextTick(cb, null, '127.0.0.1', 4);
  return {};
};
