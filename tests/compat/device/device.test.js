// The official Node device SDK (azure-iot-device 1.18.4 + azure-iot-device-mqtt 1.16.4),
// unchanged, against a fresh mockhub: `mockhub run -- node --test tests/compat/device/device.test.js`
// (ctest: compat:device). Only the SDK's public API on the device side; the back end is the
// hub's REST API (service API and /_mockhub/ extension) through ../lib/hub.js.
'use strict';

const hub = require('../lib/hub'); // first: it says how to install the SDKs when they are missing
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const path = require('node:path');
const { test, after } = require('node:test');
const { Client, Message } = require('azure-iot-device');
const { Mqtt } = require('azure-iot-device-mqtt');

const TIMEOUT = { timeout: 20000 };
const clients = [];

after(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
});

/** An SDK client for `connectionString`, trusting the hub's CA (setOptions({ca})), opened. */
async function openClient(connectionString) {
  const client = Client.fromConnectionString(connectionString, Mqtt);
  clients.push(client);
  await client.setOptions({ ca: hub.ca() });
  const result = await client.open();
  assert.equal(result.constructor.name, 'Connected');
  return client;
}

/** A new device registered through the REST API, and an opened client for it. */
async function newDevice(deviceId) {
  return openClient(await hub.createDevice(deviceId));
}

async function identity(deviceId) {
  return hub.restOk('GET', `/devices/${deviceId}`);
}

/** Invokes a direct method through the service REST API: resolves { status, payload }. */
async function invoke(deviceId, methodName, payload) {
  return hub.restOk('POST', `/twins/${deviceId}/methods`,
                    { methodName, payload, responseTimeoutInSeconds: 10, connectTimeoutInSeconds: 10 });
}

/** The lockDoor and unlockDoor handlers of the tutorial's door lock; `seen` collects the requests. */
function serveDoorLock(client, seen) {
  client.onDeviceMethod('lockDoor', (request, response) => {
    seen.push({ methodName: request.methodName, payload: request.payload });
    response.send(200, { Response: 'lockDoor called successfully', lockTime: request.payload.lockTime }, (err) => {
      if (err) seen.push({ sendError: err.message });
    });
  });
  client.onDeviceMethod('unlockDoor', (request, response) => {
    seen.push({ methodName: request.methodName, payload: request.payload });
    response.send(403, 'unlocking is not allowed from the cloud', (err) => {
      if (err) seen.push({ sendError: err.message });
    });
  });
}

test('connects with the connection string mockhub run exports (GatewayHostName) and the CA', TIMEOUT, async () => {
  const client = await openClient(hub.deviceConnectionString());
  await hub.waitFor(async () => (await identity(hub.env.deviceId)).connectionState === 'Connected', 5000,
                    `${hub.env.deviceId} Connected in the registry`);
  const closed = await client.close();
  assert.equal(closed.constructor.name, 'Disconnected');
  await hub.waitFor(async () => (await identity(hub.env.deviceId)).connectionState === 'Disconnected', 5000,
                    `${hub.env.deviceId} Disconnected in the registry`);
});

// A separate Node process, as NODE_EXTRA_CA_CERTS is read once when Node starts: opens a client
// for `connectionString` without setOptions({ca}) and without retries, and prints how it went.
function openInChild(connectionString, extraCa) {
  const script = `
    const { Client } = require('azure-iot-device');
    const { Mqtt } = require('azure-iot-device-mqtt');
    const client = Client.fromConnectionString(process.env.CS, Mqtt);
    client.setRetryPolicy({ shouldRetry: () => false, nextRetryTimeout: () => 0 });
    client.open().then(
      async (r) => { console.log(JSON.stringify({ result: r.constructor.name })); await client.close(); },
      (e) => { console.log(JSON.stringify({ error: e.message })); });`;
  const env = { ...process.env, CS: connectionString };
  delete env.NODE_EXTRA_CA_CERTS;
  if (extraCa) env.NODE_EXTRA_CA_CERTS = extraCa;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', script], { cwd: path.join(__dirname, '..'), env, timeout: 15000 },
             (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout))));
  });
}

test('trusts the CA from NODE_EXTRA_CA_CERTS; without the CA the certificate check fails', TIMEOUT, async () => {
  const cs = await hub.createDevice('compat-extra-ca');
  const [trusting, untrusting] = await Promise.all([openInChild(cs, hub.env.caFile), openInChild(cs, undefined)]);
  assert.deepEqual(trusting, { result: 'Connected' });
  assert.match(untrusting.error, /self[- ]signed certificate in certificate chain|unable to get local issuer certificate/);
});

test('answers lockDoor and unlockDoor invoked from the back end, payloads and statuses exact both ways', TIMEOUT, async () => {
  const client = await newDevice('compat-methods');
  const seen = [];
  serveDoorLock(client, seen);

  // connectTimeoutInSeconds covers the time the SDK takes to subscribe to methods.
  assert.deepEqual(await invoke('compat-methods', 'lockDoor', { lockTime: '10m' }),
                   { status: 200, payload: { Response: 'lockDoor called successfully', lockTime: '10m' } });
  assert.deepEqual(await invoke('compat-methods', 'unlockDoor', { by: 'cloud', at: [1, 2] }),
                   { status: 403, payload: 'unlocking is not allowed from the cloud' });
  assert.deepEqual(seen, [
    { methodName: 'lockDoor', payload: { lockTime: '10m' } },
    { methodName: 'unlockDoor', payload: { by: 'cloud', at: [1, 2] } },
  ]);
});

test('gets its twin: desired set by the back end before it connected, both $version', TIMEOUT, async () => {
  const cs = await hub.createDevice('compat-twin-get');
  await hub.restOk('PATCH', '/twins/compat-twin-get', { properties: { desired: { building: 43, floor: 3 } } });
  const client = await openClient(cs);

  const twin = await client.getTwin();
  assert.equal(twin.properties.desired.building, 43);
  assert.equal(twin.properties.desired.floor, 3);
  assert.equal(twin.properties.desired.$version, 2);
  assert.equal(twin.properties.reported.$version, 1);
});

test('reports properties, then seen in the twin through the REST API', TIMEOUT, async () => {
  const client = await newDevice('compat-reported');
  const twin = await client.getTwin();
  await new Promise((resolve, reject) =>
    twin.properties.reported.update({ lockState: 'locked', battery: { level: 88, charging: false } },
                                    (err) => (err ? reject(err) : resolve())));

  const reported = (await hub.restOk('GET', '/twins/compat-reported')).properties.reported;
  assert.equal(reported.lockState, 'locked');
  assert.deepEqual(reported.battery, { level: 88, charging: false });
  assert.equal(reported.$version, 2);

  // null deletes a reported property (JSON merge patch)
  await new Promise((resolve, reject) =>
    twin.properties.reported.update({ battery: null }, (err) => (err ? reject(err) : resolve())));
  const after = (await hub.restOk('GET', '/twins/compat-reported')).properties.reported;
  assert.equal(after.battery, undefined);
  assert.equal(after.lockState, 'locked');
  assert.equal(after.$version, 3);
});

test('receives desired-property updates: the exact patch and its $version', TIMEOUT, async () => {
  const client = await newDevice('compat-desired');
  const twin = await client.getTwin();
  const events = [];
  twin.on('properties.desired', (delta) => events.push(structuredClone(delta)));
  // The first event is the desired state the twin already holds (the SDK fires it for a new listener).
  await hub.waitFor(() => events.length >= 1, 5000, 'the current desired properties');
  assert.deepEqual(events.shift(), { $version: 1 });

  // The SDK subscribes to the patch topic in the background and says nothing when it is done:
  // patch until one arrives (patches before the subscription reach no one, as on IoT Hub).
  let last;
  await hub.waitFor(async () => {
    if (events.length > 0) return true;
    const patched = await hub.restOk('PATCH', '/twins/compat-desired', { properties: { desired: { floor: 3 } } });
    last = patched.properties.desired.$version;
    return hub.waitFor(() => events.length > 0, 1000, 'a desired patch').catch(() => false);
  }, 15000, 'the first desired patch');
  // Once one arrived the subscription was there before the last PATCH: that one arrives too.
  await hub.waitFor(() => events.some((e) => e.$version === last), 5000, `the desired patch of $version ${last}`);
  for (const e of events) assert.deepEqual({ ...e, $version: 0 }, { floor: 3, $version: 0 });
  events.length = 0;

  // Now subscribed: one PATCH, one notification, exactly the patch with the twin's new $version.
  const patched = await hub.restOk('PATCH', '/twins/compat-desired',
                                   { properties: { desired: { building: 43, schedule: { open: '08:00' }, floor: null } } });
  await hub.waitFor(() => events.length >= 1, 5000, 'the desired patch');
  assert.deepEqual(events, [{ building: 43, schedule: { open: '08:00' }, floor: null,
                              $version: patched.properties.desired.$version }]);
  assert.equal(twin.properties.desired.building, 43);
  assert.equal(twin.properties.desired.floor, undefined);
  assert.equal(twin.properties.desired.$version, patched.properties.desired.$version);
});

test('sends telemetry with application and system properties, seen by the hub', TIMEOUT, async () => {
  const client = await newDevice('compat-telemetry');
  const message = new Message(JSON.stringify({ temperature: 21.5, door: 'front' }));
  message.messageId = 'msg-telemetry-1';
  message.correlationId = 'corr-7';
  message.contentType = 'application/json';
  message.contentEncoding = 'utf-8';
  message.properties.add('alert', 'no');
  message.properties.add('source', 'door lock/1');
  const sent = await client.sendEvent(message);
  assert.equal(sent.constructor.name, 'MessageEnqueued');

  const events = await hub.waitFor(async () => {
    const r = await hub.restOk('GET', '/_mockhub/devices/compat-telemetry/messages/events');
    return r.length > 0 && r;
  }, 5000, 'the telemetry at the hub');
  assert.equal(events.length, 1);
  const [event] = events;
  assert.equal(event.body, '{"temperature":21.5,"door":"front"}');
  assert.equal(event.bodyEncoding, 'utf-8');
  assert.deepEqual(event.properties, { alert: 'no', source: 'door lock/1' });
  assert.deepEqual(event.systemProperties, {
    messageId: 'msg-telemetry-1', correlationId: 'corr-7', contentType: 'application/json', contentEncoding: 'utf-8',
  });
});

test('receives a cloud-to-device message sent through mockhub, with its properties', TIMEOUT, async () => {
  const client = await newDevice('compat-c2d');
  const received = [];
  client.on('message', (msg) => {
    received.push(msg);
    client.complete(msg).catch(() => {});
  });
  const sent = await hub.restOk('POST', '/_mockhub/devices/compat-c2d/messages/devicebound', {
    body: 'unlock', properties: { door: 'front', reason: 'cleaning crew' }, messageId: 'c2d-1', correlationId: 'corr-c2d',
  });
  assert.deepEqual(sent, { messageId: 'c2d-1' });

  await hub.waitFor(() => received.length >= 1, 5000, 'the cloud-to-device message');
  assert.equal(received.length, 1);
  const [msg] = received;
  assert.equal(msg.data.toString('utf8'), 'unlock');
  assert.equal(msg.messageId, 'c2d-1');
  assert.equal(msg.correlationId, 'corr-c2d');
  assert.equal(msg.properties.getValue('door'), 'front');
  assert.equal(msg.properties.getValue('reason'), 'cleaning crew');
});

test('reconnects after the hub drops the connection and keeps answering methods', TIMEOUT, async () => {
  const client = await newDevice('compat-reconnect');
  const seen = [];
  serveDoorLock(client, seen);
  assert.equal((await invoke('compat-reconnect', 'lockDoor', { lockTime: '1m' })).status, 200);
  const before = await identity('compat-reconnect');
  assert.equal(before.connectionState, 'Connected');

  const disconnects = [];
  client.on('disconnect', (reason) => disconnects.push(reason));
  await hub.restOk('POST', '/_mockhub/devices/compat-reconnect/faults', { type: 'disconnect' }, 204);

  // The hub sees the drop and then the SDK's new connection (its retry policy reconnects at once).
  await hub.waitFor(async () => {
    const now = await identity('compat-reconnect');
    return now.connectionState === 'Connected' && now.connectionStateUpdatedTime !== before.connectionStateUpdatedTime &&
           Date.parse(now.connectionStateUpdatedTime) > Date.parse(before.connectionStateUpdatedTime);
  }, 10000, 'compat-reconnect connected again');

  assert.deepEqual(await invoke('compat-reconnect', 'lockDoor', { lockTime: '2m' }),
                   { status: 200, payload: { Response: 'lockDoor called successfully', lockTime: '2m' } });
  assert.deepEqual(seen.map((s) => s.payload), [{ lockTime: '1m' }, { lockTime: '2m' }]);
  assert.deepEqual(disconnects, [], 'the SDK recovered without reporting a lasting disconnect');
});
