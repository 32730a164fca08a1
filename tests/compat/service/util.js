// The little the service compat tests need beyond the SDKs: what `mockhub run` exported, a
// bounded wait, and a device (azure-iot-device over MQTT/TLS) to answer methods. Kept tiny: it
// folds into ../lib/hub.js.
'use strict';

const assert = require('node:assert/strict');
const { Client: DeviceClient } = require('azure-iot-device');
const { Mqtt } = require('azure-iot-device-mqtt');
const { Client: ServiceClient } = require('azure-iothub');

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run under \`mockhub run --https-port 443 -- node --test FILE\``);
  return value;
}

const serviceConnectionString = required('IOTHUB_CONNECTION_STRING');
const hostName = /(?:^|;)HostName=([^;]+)/.exec(serviceConnectionString)[1];
const service = ServiceClient.fromConnectionString(serviceConnectionString);

/** Polls `check` (sync or async) until it returns a truthy value, which it returns; fails after `ms`. */
async function waitFor(check, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Connects device `deviceId` (its primary key from the registry) with the official device SDK,
 * through GatewayHostName=localhost:<MQTTS port>; `methods` maps method names to SDK handlers.
 * Returns once the hub routes methods to the device.
 */
async function connectDevice(deviceId, primaryKey, methods = {}) {
  const cs = `HostName=${hostName};DeviceId=${deviceId};SharedAccessKey=${primaryKey};` +
             `GatewayHostName=localhost:${required('MOCKHUB_MQTTS_PORT')}`;
  const client = DeviceClient.fromConnectionString(cs, Mqtt);
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

module.exports = { serviceConnectionString, hostName, waitFor, connectDevice, rejection, sdkError };
