// What the service compat tests need beyond ../lib/hub.js (the environment, connection strings,
// the bounded wait): a device (azure-iot-device over MQTT/TLS) to answer methods, and the SDK's
// refusals as the tests compare them.
'use strict';

const assert = require('node:assert/strict');
const { Client: DeviceClient } = require('azure-iot-device');
const { Mqtt } = require('azure-iot-device-mqtt');
const { Client: ServiceClient } = require('azure-iothub');

const hub = require('../lib/hub');

const serviceConnectionString = hub.serviceConnectionString();
const service = ServiceClient.fromConnectionString(serviceConnectionString);

/**
 * Connects device `deviceId` (its primary key from the registry) with the official device SDK,
 * through GatewayHostName=localhost:<MQTTS port>; `methods` maps method names to SDK handlers.
 * Returns once the hub routes methods to the device.
 */
async function connectDevice(deviceId, primaryKey, methods = {}) {
  const client = DeviceClient.fromConnectionString(hub.deviceConnectionString(deviceId, primaryKey), Mqtt);
  client.onDeviceMethod('ready', (request, response) => response.send(200, null, () => {}));
  for (const [name, handler] of Object.entries(methods)) client.onDeviceMethod(name, handler);
  await client.open();
  // The SDK subscribes to methods in the background, after open() may have returned: a call
  // with a connect timeout waits at the hub until the device's subscription is there.
  await service.invokeDeviceMethod(deviceId, { methodName: 'ready', connectTimeoutInSeconds: 10, responseTimeoutInSeconds: 10 });
  return client;
}

/** What an SDK promise rejected with (fails when it resolved). */
async function rejection(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail('the call succeeded');
}

/**
 * An SDK error as the tests compare it: the SDK's error class, the HTTP status, and the hub's
 * error name, numeric code and text from the body's `Message` (`ErrorCode:<Name>;<text>;errorCode:<n>`).
 */
function sdkError(err) {
  const [, hubName, message, code] = /^ErrorCode:([^;]*);(.*);errorCode:(\d+)$/.exec(JSON.parse(err.responseBody).Message);
  return { name: err.name, status: err.response.statusCode, hubName, code: Number(code), message };
}

module.exports = { serviceConnectionString, waitFor: hub.waitFor, connectDevice, rejection, sdkError };
