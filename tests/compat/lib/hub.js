// What every compat test needs from the hub it runs under (`mockhub run -- node --test FILE`):
// the environment `mockhub run` exports, SDK connection strings, a signed REST call (service
// API and mockhub's /_mockhub/ extension) and a bounded wait. Node's standard library only.
//
//   const hub = require('../lib/hub');
//   const cs = hub.deviceConnectionString();            // GatewayHostName=localhost:<MQTTS port>
//   const { status, body } = await hub.rest('GET', '/devices/device-1');
//   await hub.waitFor(async () => (await hub.rest('GET', '/twins/d')).body.properties.reported.x === 1, 5000, 'x reported');
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');

require('./sdks_installed'); // a test file requires this module before any SDK

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this test under \`mockhub run -- node --test FILE\``);
  return value;
}

/** `A=1;B=2` -> { A: '1', B: '2' } (values may contain '=', as base64 keys do). */
function parseConnectionString(cs) {
  const fields = {};
  for (const part of cs.split(';')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`connection string part without a name: '${part}'`);
    fields[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return fields;
}

const serviceFields = parseConnectionString(required('IOTHUB_CONNECTION_STRING'));

/** What `mockhub run` exported, parsed. */
const env = Object.freeze({
  serviceConnectionString: process.env.IOTHUB_CONNECTION_STRING,
  deviceConnectionString: process.env.IOTHUB_DEVICE_CONNECTION_STRING,
  deviceId: parseConnectionString(required('IOTHUB_DEVICE_CONNECTION_STRING')).DeviceId,
  hostName: serviceFields.HostName,
  policyName: serviceFields.SharedAccessKeyName,
  policyKey: serviceFields.SharedAccessKey,
  caFile: process.env.MOCKHUB_CA_FILE,
  mqttPort: Number(required('MOCKHUB_MQTT_PORT')),
  mqttsPort: process.env.MOCKHUB_MQTTS_PORT ? Number(process.env.MOCKHUB_MQTTS_PORT) : undefined,
  restUrl: required('MOCKHUB_REST_URL'),
  httpsUrl: process.env.MOCKHUB_HTTPS_URL,
  dataDir: process.env.MOCKHUB_DATA_DIR,
});

/** The CA's PEM text, for the SDKs' setOptions({ ca }). */
function ca() {
  if (!env.caFile) throw new Error('MOCKHUB_CA_FILE is not set: the hub runs without TLS (--no-tls)');
  return fs.readFileSync(env.caFile, 'utf8');
}

/**
 * A device connection string the device SDKs accept: HostName (signed into the token's `sr`)
 * stays the hub's, GatewayHostName points the MQTT/TLS connection at the local port.
 * Without arguments: the ready device of `mockhub run`.
 */
function deviceConnectionString(deviceId, primaryKey) {
  if (env.mqttsPort === undefined) throw new Error('MOCKHUB_MQTTS_PORT is not set: the device SDKs need TLS');
  const base = deviceId === undefined
    ? env.deviceConnectionString
    : `HostName=${env.hostName};DeviceId=${deviceId};SharedAccessKey=${primaryKey}`;
  return `${base};GatewayHostName=localhost:${env.mqttsPort}`;
}

/** The service connection string (HostName=localhost: the service SDKs then use HTTPS on port 443). */
function serviceConnectionString() {
  return env.serviceConnectionString;
}

/** A service SAS token signed with the connection string's policy, valid `ttlSeconds`. */
function serviceToken(ttlSeconds = 3600) {
  const sr = encodeURIComponent(env.hostName);
  // A virtual clock starts at 2026-01-01 and only moves forward when told: wall time plus ttl stays valid.
  const se = Math.floor(Date.now() / 1000) + ttlSeconds;
  const sig = crypto.createHmac('sha256', Buffer.from(env.policyKey, 'base64')).update(`${sr}\n${se}`).digest('base64');
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${se}&skn=${env.policyName}`;
}

/**
 * One call to the hub's REST API over plain HTTP (MOCKHUB_REST_URL), signed with the service
 * policy: resolves { status, headers, body } (body parsed when JSON, else text or null).
 * `api-version=2021-04-12` is added to paths outside /_mockhub/. Rejects after `timeoutMs`.
 */
function rest(method, urlPath, body, { headers = {}, timeoutMs = 10000 } = {}) {
  const url = new URL(urlPath, env.restUrl);
  if (!url.pathname.startsWith('/_mockhub/') && !url.searchParams.has('api-version'))
    url.searchParams.set('api-version', '2021-04-12');
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method,
      headers: {
        Authorization: serviceToken(),
        ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {}),
        ...headers,
      },
      timeout: timeoutMs,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const isJson = (res.headers['content-type'] || '').startsWith('application/json');
        resolve({ status: res.statusCode, headers: res.headers, body: text === '' ? null : isJson ? JSON.parse(text) : text });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Like rest(), but rejects unless the status is `expected`; resolves the body. */
async function restOk(method, urlPath, body, expected = 200, options = {}) {
  const r = await rest(method, urlPath, body, options);
  if (r.status !== expected)
    throw new Error(`${method} ${urlPath}: expected ${expected}, got ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Registers a device (keys generated by the hub) and resolves its SDK connection string. */
async function createDevice(deviceId) {
  const device = await restOk('PUT', `/devices/${encodeURIComponent(deviceId)}`, { deviceId });
  return deviceConnectionString(deviceId, device.authentication.symmetricKey.primaryKey);
}

/**
 * Resolves once `cond()` (sync or async) returns a truthy value, with that value; rejects with
 * "timed out after MS ms waiting for WHAT" otherwise. Polls every 20 ms; never sleeps longer.
 */
async function waitFor(cond, ms, what) {
  const deadline = Date.now() + ms;
  let lastError;
  for (;;) {
    try {
      const value = await cond();
      if (value) return value;
      lastError = undefined;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= deadline)
      throw new Error(`timed out after ${ms} ms waiting for ${what}` + (lastError ? ` (last error: ${lastError.message})` : ''));
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Promise of the first `event` an emitter sends (its arguments as an array), rejected after `ms`. */
function nextEvent(emitter, event, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.removeListener(event, on);
      reject(new Error(`timed out after ${ms} ms waiting for the '${event}' event`));
    }, ms);
    function on(...args) {
      clearTimeout(timer);
      resolve(args);
    }
    emitter.once(event, on);
  });
}

module.exports = {
  env,
  ca,
  parseConnectionString,
  deviceConnectionString,
  serviceConnectionString,
  serviceToken,
  rest,
  restOk,
  createDevice,
  waitFor,
  nextEvent,
};
