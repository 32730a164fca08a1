// azure-iothub 1.16.6, unchanged, against mockhub: the identity registry, twins with etags and
// paged twin queries. Run: mockhub run --https-port 443 -- node --test registry.test.js
// (NODE_EXTRA_CA_CERTS=$MOCKHUB_CA_FILE; tests/compat/service/CMakeLists.txt does both).
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { Registry } = require('azure-iothub');
const { serviceConnectionString, rejection, sdkError } = require('./util');

const registry = Registry.fromConnectionString(serviceConnectionString);
const key = (n) => Buffer.alloc(32, n).toString('base64');

test('Registry create, get, update, list, statistics and delete', async () => {
  const created = await registry.create({
    deviceId: 'reg-1',
    authentication: { symmetricKey: { primaryKey: key(1), secondaryKey: key(2) } },
  });
  assert.equal(created.httpResponse.statusCode, 200);
  const device = created.responseBody;
  assert.equal(device.deviceId, 'reg-1');
  assert.equal(device.status, 'enabled');
  assert.equal(device.connectionState, 'Disconnected');
  assert.equal(device.authentication.type, 'sas');
  assert.deepEqual(device.authentication.symmetricKey, { primaryKey: key(1), secondaryKey: key(2) });
  assert.match(device.etag, /^[A-Za-z0-9+/=]+$/);

  // Created without keys: the hub generates both (32 bytes each).
  const generated = (await registry.create({ deviceId: 'reg-2' })).responseBody;
  for (const k of Object.values(generated.authentication.symmetricKey)) assert.equal(Buffer.from(k, 'base64').length, 32);

  const got = (await registry.get('reg-1')).responseBody;
  assert.equal(got.deviceId, 'reg-1');
  assert.equal(got.etag, device.etag);
  assert.equal(got.generationId, device.generationId);

  // The usual update: the device as read, changed. Its keys go back as they were.
  const updated = (await registry.update({ ...got, status: 'disabled', statusReason: 'maintenance' })).responseBody;
  assert.equal(updated.status, 'disabled');
  assert.equal(updated.statusReason, 'maintenance');
  assert.notEqual(updated.etag, device.etag);
  assert.equal(updated.generationId, device.generationId);
  assert.deepEqual(updated.authentication.symmetricKey, { primaryKey: key(1), secondaryKey: key(2) });
  assert.equal((await registry.get('reg-1')).responseBody.status, 'disabled');

  // Without `authentication` the SDK sends empty keys, and empty keys are generated afresh (a
  // key roll; docs/fidelity.md): a caller that wants to keep the keys passes them.
  const rolled = (await registry.update({ deviceId: 'reg-2', status: 'disabled' })).responseBody;
  assert.equal(rolled.status, 'disabled');
  assert.notDeepEqual(rolled.authentication.symmetricKey, generated.authentication.symmetricKey);
  for (const k of Object.values(rolled.authentication.symmetricKey)) assert.equal(Buffer.from(k, 'base64').length, 32);

  // `mockhub run` registered its ready device (device-1) before the test.
  const listed = (await registry.list()).responseBody.map((d) => d.deviceId).sort();
  assert.deepEqual(listed, ['device-1', 'reg-1', 'reg-2']);

  assert.deepEqual((await registry.getRegistryStatistics()).responseBody,
                   { totalDeviceCount: 3, enabledDeviceCount: 1, disabledDeviceCount: 2 });

  const deleted = await registry.delete('reg-1');
  assert.equal(deleted.httpResponse.statusCode, 204);
  await registry.delete('reg-2');
  assert.deepEqual((await registry.list()).responseBody.map((d) => d.deviceId), ['device-1']);
});

test('Registry typed errors: DeviceNotFoundError, DeviceAlreadyExistsError, ArgumentError', async () => {
  assert.deepEqual(sdkError(await rejection(registry.get('absent'))), {
    name: 'DeviceNotFoundError', status: 404, hubName: 'DeviceNotFound', code: 404001,
    message: "Device 'absent' is not registered in this hub." });
  assert.deepEqual(sdkError(await rejection(registry.delete('absent'))), {
    name: 'DeviceNotFoundError', status: 404, hubName: 'DeviceNotFound', code: 404001,
    message: "Device 'absent' is not registered in this hub." });
  assert.equal(sdkError(await rejection(registry.getTwin('absent'))).name, 'DeviceNotFoundError');

  await registry.create({ deviceId: 'dup' });
  assert.deepEqual(sdkError(await rejection(registry.create({ deviceId: 'dup' }))), {
    name: 'DeviceAlreadyExistsError', status: 409, hubName: 'DeviceAlreadyExists', code: 409001,
    message: "A device with ID 'dup' is already registered." });

  const bad = sdkError(await rejection(registry.create({ deviceId: 'bad key', authentication: {
    symmetricKey: { primaryKey: 'not base64!', secondaryKey: '' } } })));
  assert.equal(bad.name, 'ArgumentError');
  assert.equal(bad.status, 400);
  assert.equal(bad.hubName, 'ArgumentInvalid');
  assert.equal(bad.code, 400004);
  await registry.delete('dup');
});

test('Twins: getTwin, Twin.update and Registry.updateTwin with etags; a stale etag is InvalidEtagError', async () => {
  await registry.create({ deviceId: 'twin-1' });
  const twin = (await registry.getTwin('twin-1')).responseBody;
  assert.equal(twin.deviceId, 'twin-1');
  assert.equal(twin.etag, 'AAAAAAAAAAE=');
  assert.equal(twin.version, 2);
  assert.deepEqual(twin.tags, {});
  assert.equal(twin.properties.desired.$version, 1);
  assert.equal(twin.properties.reported.$version, 1);

  const firstEtag = twin.etag;
  const afterTwinUpdate = await twin.update({ tags: { building: 43 }, properties: { desired: { floor: 3 } } });
  assert.equal(afterTwinUpdate.message.statusCode, 200);
  assert.equal(afterTwinUpdate.result, twin, 'Twin.update refreshes the twin it was called on');
  assert.equal(twin.etag, 'AAAAAAAAAAI=');
  assert.deepEqual(twin.tags, { building: 43 });
  assert.equal(twin.properties.desired.floor, 3);
  assert.equal(twin.properties.desired.$version, 2);

  const patched = (await registry.updateTwin('twin-1', { properties: { desired: { floor: 4, mode: 'eco' } } }, twin.etag))
    .responseBody;
  assert.equal(patched.etag, 'AAAAAAAAAAM=');
  assert.equal(patched.properties.desired.floor, 4);
  assert.equal(patched.properties.desired.mode, 'eco');
  assert.equal(patched.properties.desired.$version, 3);
  assert.deepEqual(patched.tags, { building: 43 });

  // The first etag is stale now: the SDK maps the hub's 412 to InvalidEtagError.
  const stale = sdkError(await rejection(registry.updateTwin('twin-1', { tags: { building: 44 } }, firstEtag)));
  assert.equal(stale.name, 'InvalidEtagError');
  assert.equal(stale.status, 412);
  assert.equal(stale.hubName, 'PreconditionFailed');
  assert.equal(stale.code, 412001);
  assert.match(stale.message, /AAAAAAAAAAE=/);
  // Twin.update with the twin's own (now stale) etag is refused the same way.
  assert.equal((await rejection(twin.update({ tags: { building: 45 } }))).name, 'InvalidEtagError');
  assert.deepEqual((await registry.getTwin('twin-1')).responseBody.tags, { building: 43 });

  // '*' matches any etag; null deletes a desired property (merge patch).
  const forced = (await registry.updateTwin('twin-1', { properties: { desired: { mode: null } } }, '*')).responseBody;
  assert.equal(forced.etag, 'AAAAAAAAAAQ=');
  assert.equal(forced.properties.desired.mode, undefined);
  assert.equal(forced.properties.desired.floor, 4);

  // Twin.get refreshes a Twin object in place.
  await twin.get();
  assert.equal(twin.etag, 'AAAAAAAAAAQ=');
  assert.equal(twin.properties.desired.$version, 4);
  await registry.delete('twin-1');
});

test('Registry.createQuery pages with next and nextAsTwin, exact totals', async () => {
  const ids = Array.from({ length: 7 }, (_, i) => `page-${i}`);
  for (const [i, id] of ids.entries()) {
    await registry.create({ deviceId: id });
    await registry.updateTwin(id, { tags: { batch: 'paging', index: i } }, '*');
  }

  // nextAsTwin: Twin objects, three pages of 3, 3 and 1.
  const query = registry.createQuery("SELECT * FROM devices WHERE tags.batch = 'paging'", 3);
  const pages = [];
  while (query.hasMoreResults) {
    assert.ok(pages.length < 5, 'the query ends');
    const page = (await query.nextAsTwin()).result;
    pages.push(page);
    assert.equal(query.hasMoreResults, pages.length < 3);
    for (const twin of page) assert.equal(typeof twin.update, 'function');
  }
  assert.deepEqual(pages.map((p) => p.length), [3, 3, 1]);
  assert.deepEqual(pages.flat().map((t) => t.deviceId).sort(), ids);
  assert.deepEqual(pages.flat().map((t) => t.tags.index).sort(), [0, 1, 2, 3, 4, 5, 6]);

  // next: plain JSON rows of a projection, pages of 4 and 3.
  const projected = registry.createQuery(
    "SELECT deviceId, tags.index AS i FROM devices WHERE tags.batch = 'paging' AND tags.index >= 0", 4);
  const first = await projected.next();
  assert.equal(first.message.statusCode, 200);
  assert.equal(first.result.length, 4);
  assert.equal(typeof projected.continuationToken, 'string');
  // The promise form of next() without an argument sends no token (an SDK quirk: only the
  // callback form and nextAsTwin() fall back to query.continuationToken), so the query restarts.
  const token = projected.continuationToken;
  assert.deepEqual((await projected.next()).result, first.result);
  const second = await projected.next(token);
  assert.equal(second.result.length, 3);
  assert.equal(projected.hasMoreResults, false);
  assert.deepEqual([...first.result, ...second.result].sort((a, b) => a.i - b.i),
                   ids.map((deviceId, i) => ({ deviceId, i })));

  // An aggregate is one page.
  const count = registry.createQuery("SELECT COUNT() AS total FROM devices WHERE tags.batch = 'paging'");
  assert.deepEqual((await count.next()).result, [{ total: 7 }]);
  assert.equal(count.hasMoreResults, false);

  // A query the hub cannot parse: ArgumentError with the hub's text.
  const invalid = sdkError(await rejection(registry.createQuery('SELECT * FROM nowhere').next()));
  assert.equal(invalid.name, 'ArgumentError');
  assert.equal(invalid.status, 400);
  assert.equal(invalid.hubName, 'GenericBadRequest');
  assert.equal(invalid.code, 400000);
  assert.match(invalid.message, /^The query is invalid/);
  for (const id of ids) await registry.delete(id);
});

// An SDK refusal of a bulk call: ArgumentError on the hub's 400, whose body is the
// BulkRegistryOperationResult (not an error body).
function bulkRefusal(err) {
  return { name: err.name, status: err.response.statusCode, result: JSON.parse(err.responseBody) };
}

test('Registry.addDevices, updateDevices and removeDevices (POST /devices) with per-device errors', async () => {
  const ok = { isSuccessful: true, errors: [], warnings: [] };
  const added = await registry.addDevices([{ deviceId: 'bulk-1' }, { deviceId: 'bulk-2', status: 'disabled' }]);
  assert.equal(added.httpResponse.statusCode, 200);
  assert.deepEqual(added.responseBody, ok);
  const one = (await registry.get('bulk-1')).responseBody;
  assert.equal(one.status, 'enabled');
  for (const k of Object.values(one.authentication.symmetricKey)) assert.equal(Buffer.from(k, 'base64').length, 32);
  assert.equal((await registry.get('bulk-2')).responseBody.status, 'disabled');

  // forceUpdate false is importMode UpdateIfMatchETag with the device's etag: it applies while
  // the etag is current, and is refused per device once it is stale.
  const updated = await registry.updateDevices([{ ...one, status: 'disabled', statusReason: 'bulk' }], false);
  assert.deepEqual(updated.responseBody, ok);
  const after = (await registry.get('bulk-1')).responseBody;
  assert.equal(after.statusReason, 'bulk');
  assert.notEqual(after.etag, one.etag);
  assert.deepEqual(after.authentication.symmetricKey, one.authentication.symmetricKey);

  assert.deepEqual(bulkRefusal(await rejection(registry.updateDevices([{ ...one, statusReason: 'stale' }], false))), {
    name: 'ArgumentError', status: 400, result: { isSuccessful: false, warnings: [], errors: [{
      deviceId: 'bulk-1', errorCode: 'EtagDoesNotMatch',
      errorStatus: `The If-Match etag ${one.etag} does not match device 'bulk-1' (etag "${after.etag}").` }] } });
  assert.equal((await registry.get('bulk-1')).responseBody.statusReason, 'bulk');
  // forceUpdate true (Update) ignores the etag.
  assert.deepEqual((await registry.updateDevices([{ ...one, statusReason: 'forced' }], true)).responseBody, ok);
  assert.equal((await registry.get('bulk-1')).responseBody.statusReason, 'forced');

  // A mixed batch: the new device is created, the existing one is reported.
  assert.deepEqual(bulkRefusal(await rejection(registry.addDevices([{ deviceId: 'bulk-3' }, { deviceId: 'bulk-2' }]))), {
    name: 'ArgumentError', status: 400, result: { isSuccessful: false, warnings: [], errors: [{
      deviceId: 'bulk-2', errorCode: 'DeviceAlreadyExists', errorStatus: "A device with ID 'bulk-2' is already registered." }] } });
  assert.equal((await registry.get('bulk-3')).responseBody.deviceId, 'bulk-3');

  // forceRemove false (DeleteIfMatchETag) with a stale etag is refused; true deletes.
  const current = (await registry.get('bulk-1')).responseBody;
  assert.deepEqual(bulkRefusal(await rejection(registry.removeDevices([{ deviceId: 'bulk-1', etag: one.etag }], false))), {
    name: 'ArgumentError', status: 400, result: { isSuccessful: false, warnings: [], errors: [{
      deviceId: 'bulk-1', errorCode: 'EtagDoesNotMatch',
      errorStatus: `The If-Match etag ${one.etag} does not match device 'bulk-1' (etag "${current.etag}").` }] } });
  assert.deepEqual((await registry.removeDevices([{ deviceId: 'bulk-1', etag: current.etag }], false)).responseBody, ok);
  assert.deepEqual((await registry.removeDevices([{ deviceId: 'bulk-2' }, { deviceId: 'bulk-3' }], true)).responseBody, ok);
  assert.deepEqual((await registry.list()).responseBody.map((d) => d.deviceId), ['device-1']);

  // The SDK itself refuses more than 100 devices before sending anything (the hub's answer,
  // 413 TooManyDevices, is held by the REST tests).
  const tooMany = Array.from({ length: 101 }, (_, i) => ({ deviceId: `many-${i}` }));
  const refused = await rejection(registry.addDevices(tooMany));
  assert.equal(refused.name, 'ArgumentError');
  assert.equal(refused.message, 'The device array has an invalid size of 101');
  assert.equal(refused.response, undefined);
});
