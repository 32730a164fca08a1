// azure-iothub 1.16.6 Client.invokeDeviceMethod against mockhub, answered by a device connected
// with the official device SDK (azure-iot-device + azure-iot-device-mqtt over MQTT/TLS).
// Run: mockhub run --https-port 443 -- node --test methods.test.js (tests/compat/service/CMakeLists.txt).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { Client, Registry } = require('azure-iothub');
const { serviceConnectionString, connectDevice, rejection, sdkError } = require('./util');

const registry = Registry.fromConnectionString(serviceConnectionString);
const service = Client.fromConnectionString(serviceConnectionString);

test('invokeDeviceMethod: answered, device offline (404103), timed out (504101)', async (t) => {
  const { primaryKey } = (await registry.create({ deviceId: 'lock-1' })).responseBody.authentication.symmetricKey;
  await registry.create({ deviceId: 'lock-offline' });
  const received = [];
  let unanswered = 0;
  const device = await connectDevice('lock-1', primaryKey, {
    lockDoor: (request, response) => {
      received.push({ methodName: request.methodName, payload: request.payload });
      response.send(200, { locked: true, door: request.payload.door }, () => {});
    },
    jam: (request, response) => {
      received.push({ methodName: request.methodName, payload: request.payload });
      response.send(409, 'door jammed', () => {});
    },
    ignore: () => { unanswered += 1; },  // never answers
  });
  t.after(() => device.close());

  await t.test('answered: the device status and payload come back', async () => {
    const { result, message } = await service.invokeDeviceMethod('lock-1', {
      methodName: 'lockDoor', payload: { door: 'front' }, responseTimeoutInSeconds: 10 });
    assert.equal(message.statusCode, 200);
    assert.deepEqual(result, { status: 200, payload: { locked: true, door: 'front' } });
    assert.deepEqual(received.at(-1), { methodName: 'lockDoor', payload: { door: 'front' } });
  });

  await t.test('answered with an error status: still HTTP 200, the status is in the result', async () => {
    const { result, message } = await service.invokeDeviceMethod('lock-1', { methodName: 'jam', payload: null });
    assert.equal(message.statusCode, 200);
    assert.deepEqual(result, { status: 409, payload: 'door jammed' });
    assert.deepEqual(received.at(-1), { methodName: 'jam', payload: null });
  });

  await t.test('device offline: 404 DeviceNotOnline (the SDK has no class for it: a plain Error)', async () => {
    const err = await rejection(service.invokeDeviceMethod('lock-offline', { methodName: 'lockDoor', payload: {} }));
    assert.equal(err.message, 'Not found');
    assert.deepEqual(sdkError(err), { name: 'Error', status: 404, hubName: 'DeviceNotOnline', code: 404103,
                                      message: 'Timed out waiting for device to connect.' });
  });

  await t.test('not registered: DeviceNotFoundError', async () => {
    const err = await rejection(service.invokeDeviceMethod('nobody', { methodName: 'lockDoor' }));
    assert.deepEqual(sdkError(err), { name: 'DeviceNotFoundError', status: 404, hubName: 'DeviceNotFound', code: 404001,
                                      message: "Device 'nobody' is not registered in this hub." });
  });

  await t.test('timed out: GatewayTimeoutError 504101 after the shortest response timeout (5 s)', async () => {
    const started = Date.now();
    const err = await rejection(service.invokeDeviceMethod('lock-1', { methodName: 'ignore', responseTimeoutInSeconds: 5 }));
    assert.deepEqual(sdkError(err), { name: 'GatewayTimeoutError', status: 504, hubName: 'GatewayTimeout', code: 504101,
                                      message: 'Timed out waiting for the response from device.' });
    assert.equal(unanswered, 1);
    assert.ok(Date.now() - started >= 4900, 'the hub waited the response timeout');
  });

  await t.test('a timeout out of range is ArgumentError 400004', async () => {
    const err = await rejection(service.invokeDeviceMethod('lock-1', { methodName: 'lockDoor', responseTimeoutInSeconds: 301 }));
    assert.deepEqual(sdkError(err), { name: 'ArgumentError', status: 400, hubName: 'ArgumentInvalid', code: 400004,
                                      message: 'responseTimeoutInSeconds is 301, it must be between 5 and 300 seconds.' });
  });
});
