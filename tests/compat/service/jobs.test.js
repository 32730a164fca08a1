// azure-iothub 1.16.6 JobClient against mockhub: scheduleDeviceMethod and scheduleTwinUpdate, now
// and a few seconds ahead, getJob until done, cancelJob, queryJobs, and the device job records of
// a `devices.jobs` query. The method's devices are official-SDK devices (azure-iot-device-mqtt).
// Run: mockhub run --https-port 443 --tier S3 -- node --test jobs.test.js
// (tests/compat/service/CMakeLists.txt; S3 lets the two future jobs be scheduled at once).
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { JobClient, Registry } = require('azure-iothub');
const { serviceConnectionString, connectDevice, waitFor, rejection, sdkError } = require('./util');

const registry = Registry.fromConnectionString(serviceConnectionString);
const jobs = JobClient.fromConnectionString(serviceConnectionString);

const locks = ['lock-a', 'lock-b', 'lock-c'];  // building 43; lock-c stays offline
const received = [];                           // { deviceId, payload, at } of every lockDoor call
const devices = [];

/** getJob until the job has finished (bounded); the final job. */
async function finished(jobId, ms = 20000) {
  return waitFor(async () => {
    const { jobStatus } = await jobs.getJob(jobId);
    return ['completed', 'failed', 'cancelled'].includes(jobStatus.status) && jobStatus;
  }, ms, `job ${jobId} to finish`);
}

/** Every row of a query, page after page (the token passed explicitly: see README.md). */
async function allRows(query) {
  const rows = [];
  for (let pages = 0; query.hasMoreResults; ++pages) {
    assert.ok(pages < 20, 'the query ends');
    rows.push(...(await query.next(query.continuationToken)).result);
  }
  return rows;
}

/** The device job records of one job, by device id. */
async function deviceRecords(jobId) {
  const rows = await allRows(registry.createQuery(`SELECT * FROM devices.jobs WHERE devices.jobs.jobId = '${jobId}'`, 2));
  return Object.fromEntries(rows.map((r) => [r.deviceId, r]));
}

before(async () => {
  for (const id of [...locks, 'other-building']) {
    const key = (await registry.create({ deviceId: id })).responseBody.authentication.symmetricKey.primaryKey;
    await registry.updateTwin(id, { tags: { building: id === 'other-building' ? 44 : 43 } }, '*');
    if (id === 'lock-a' || id === 'lock-b') {
      devices.push(await connectDevice(id, key, {
        lockDoor: (request, response) => {
          received.push({ deviceId: id, payload: request.payload, at: Date.now() });
          response.send(200, { locked: true }, () => {});
        },
      }));
    }
  }
});

after(async () => {
  for (const d of devices) await d.close();
});

test('scheduleDeviceMethod now: every device of the query is called; records say who answered', async () => {
  const { jobStatus, response } = await jobs.scheduleDeviceMethod('lock-now', 'tags.building = 43',
    { methodName: 'lockDoor', payload: { lockTime: '10m' }, responseTimeoutInSeconds: 10 });
  assert.equal(response.statusCode, 200);
  assert.equal(jobStatus.jobId, 'lock-now');
  assert.equal(jobStatus.type, 'scheduleDeviceMethod');
  assert.equal(jobStatus.status, 'queued');
  assert.equal(jobStatus.queryCondition, 'tags.building = 43');
  assert.equal(jobStatus.maxExecutionTimeInSeconds, 3600);
  assert.equal(jobStatus.cloudToDeviceMethod.methodName, 'lockDoor');
  assert.deepEqual(jobStatus.cloudToDeviceMethod.payload, { lockTime: '10m' });
  assert.equal(jobStatus.cloudToDeviceMethod.responseTimeoutInSeconds, 10);

  const done = await finished('lock-now');
  assert.equal(done.status, 'completed');
  assert.deepEqual(done.deviceJobStatistics,
                   { deviceCount: 3, failedCount: 1, succeededCount: 2, runningCount: 0, pendingCount: 0 });
  assert.deepEqual(received.map((r) => r.deviceId).sort(), ['lock-a', 'lock-b']);
  for (const r of received) assert.deepEqual(r.payload, { lockTime: '10m' });

  const records = await deviceRecords('lock-now');
  assert.deepEqual(Object.keys(records).sort(), locks);
  for (const id of ['lock-a', 'lock-b']) {
    assert.equal(records[id].jobType, 'scheduleDeviceMethod');
    assert.equal(records[id].status, 'completed');
    assert.deepEqual(records[id].outcome, { deviceMethodResponse: { status: 200, payload: { locked: true } } });
  }
  assert.equal(records['lock-c'].status, 'failed');
  assert.deepEqual(records['lock-c'].error,
                   { code: 'DeviceNotOnline', description: 'Timed out waiting for device to connect.' });
});

test('scheduleTwinUpdate now: the patch reaches every twin of the query, and no other', async () => {
  const patch = { etag: '*', properties: { desired: { building: 43, floor: 3 } } };
  const { jobStatus } = await jobs.scheduleTwinUpdate('twin-now', 'tags.building = 43', patch);
  assert.equal(jobStatus.type, 'scheduleUpdateTwin');
  assert.deepEqual(jobStatus.updateTwin.properties.desired, { building: 43, floor: 3 });

  const done = await finished('twin-now');
  assert.equal(done.status, 'completed');
  assert.deepEqual(done.deviceJobStatistics,
                   { deviceCount: 3, failedCount: 0, succeededCount: 3, runningCount: 0, pendingCount: 0 });
  for (const id of locks) {
    const desired = (await registry.getTwin(id)).responseBody.properties.desired;
    assert.equal(desired.building, 43);
    assert.equal(desired.floor, 3);
  }
  assert.equal((await registry.getTwin('other-building')).responseBody.properties.desired.floor, undefined);
  const records = await deviceRecords('twin-now');
  assert.deepEqual(Object.values(records).map((r) => [r.deviceId, r.jobType, r.status]).sort(),
                   locks.map((id) => [id, 'scheduleUpdateTwin', 'completed']));
});

test('Jobs scheduled 3 s ahead are scheduled, then run at their start time', async () => {
  const start = new Date(Math.ceil((Date.now() + 3000) / 1000) * 1000);  // whole seconds: compared exactly below
  const calledBefore = received.length;
  const method = (await jobs.scheduleDeviceMethod('lock-later', "deviceId = 'lock-a'",
    { methodName: 'lockDoor', payload: { lockTime: '1h' } }, start, 60)).jobStatus;
  const twin = (await jobs.scheduleTwinUpdate('twin-later', "deviceId IN ['lock-a', 'lock-c']",
    { etag: '*', tags: { maintenance: 'tonight' } }, start, 60)).jobStatus;
  for (const j of [method, twin]) {
    assert.equal(new Date(j.startTime).getTime(), start.getTime());
    assert.equal(j.maxExecutionTimeInSeconds, 60);
  }
  for (const id of ['lock-later', 'twin-later']) assert.equal((await jobs.getJob(id)).jobStatus.status, 'scheduled');
  assert.equal((await registry.getTwin('lock-a')).responseBody.tags.maintenance, undefined);

  const [methodDone, twinDone] = [await finished('lock-later'), await finished('twin-later')];
  assert.equal(methodDone.status, 'completed');
  assert.equal(methodDone.deviceJobStatistics.succeededCount, 1);
  assert.equal(twinDone.status, 'completed');
  assert.equal(twinDone.deviceJobStatistics.succeededCount, 2);
  const call = received.slice(calledBefore);
  assert.deepEqual(call.map((r) => [r.deviceId, r.payload]), [['lock-a', { lockTime: '1h' }]]);
  assert.ok(call[0].at >= start.getTime() - 50, 'the method ran at its start time, not before');
  for (const id of ['lock-a', 'lock-c']) {
    assert.equal((await registry.getTwin(id)).responseBody.tags.maintenance, 'tonight');
  }
  assert.equal((await registry.getTwin('lock-b')).responseBody.tags.maintenance, undefined);
});

test('cancelJob: a scheduled job is cancelled; cancelling a finished one and unknown jobs are refused', async () => {
  const inAnHour = new Date(Date.now() + 3600 * 1000);
  await jobs.scheduleTwinUpdate('cancel-me', 'tags.building = 43', { etag: '*', tags: { late: true } }, inAnHour, 60);
  const { jobStatus, response } = await jobs.cancelJob('cancel-me');
  assert.equal(response.statusCode, 200);
  assert.equal(jobStatus.jobId, 'cancel-me');
  assert.equal(jobStatus.status, 'cancelled');
  assert.equal((await jobs.getJob('cancel-me')).jobStatus.status, 'cancelled');

  // 412 JobRunPreconditionFailed: the SDK maps every 412 to InvalidEtagError.
  const finishedJob = await rejection(jobs.cancelJob('lock-now'));
  assert.deepEqual(sdkError(finishedJob), { name: 'InvalidEtagError', status: 412, hubName: 'JobRunPreconditionFailed',
                                            code: 412003, message: "Job 'lock-now' already ended (completed), it cannot be cancelled." });

  // 404 JobNotFound: the SDK has no class for it (only DeviceNotFound and IotHubNotFound).
  const unknown = await rejection(jobs.getJob('no-such-job'));
  assert.equal(unknown.message, 'Not found');
  assert.deepEqual(sdkError(unknown), { name: 'Error', status: 404, hubName: 'JobNotFound', code: 404002,
                                        message: "Job 'no-such-job' does not exist." });

  // An id in use: 409 JobAlreadyExists, which the SDK names DeviceAlreadyExistsError.
  const taken = await rejection(jobs.scheduleTwinUpdate('lock-now', 'tags.building = 43', { etag: '*', tags: { x: 1 } }));
  assert.deepEqual(sdkError(taken), { name: 'DeviceAlreadyExistsError', status: 409, hubName: 'JobAlreadyExists',
                                      code: 409104, message: "A job with ID 'lock-now' already exists." });
});

test('queryJobs by type and status, paged', async () => {
  const ids = async (type, status, pageSize) => (await allRows(jobs.createQuery(type, status, pageSize)))
    .map((j) => j.jobId).sort();
  assert.deepEqual(await ids('scheduleDeviceMethod', undefined, 1), ['lock-later', 'lock-now']);
  assert.deepEqual(await ids('scheduleUpdateTwin', 'completed', 1), ['twin-later', 'twin-now']);
  assert.deepEqual(await ids(undefined, 'cancelled'), ['cancel-me']);
  assert.deepEqual(await ids(undefined, 'completed', 3), ['lock-later', 'lock-now', 'twin-later', 'twin-now']);
  assert.deepEqual(await ids('scheduleDeviceMethod', 'cancelled'), []);

  // One page at a time: pageSize 2 of five jobs is three pages.
  const query = jobs.createQuery(undefined, undefined, 2);
  const sizes = [];
  while (query.hasMoreResults) sizes.push((await query.next(query.continuationToken)).result.length);
  assert.deepEqual(sizes, [2, 2, 1]);

  // Every device job record of the method jobs, through one devices.jobs query.
  const rows = await allRows(registry.createQuery(
    "SELECT * FROM devices.jobs WHERE devices.jobs.jobType = 'scheduleDeviceMethod'", 3));
  assert.deepEqual(rows.map((r) => `${r.jobId}/${r.deviceId}/${r.status}`).sort(), [
    'lock-later/lock-a/completed',
    'lock-now/lock-a/completed', 'lock-now/lock-b/completed', 'lock-now/lock-c/failed',
  ]);
});

test('devices.jobs takes only SELECT *, as on IoT Hub: a projection is ArgumentError 400000', async () => {
  const err = await rejection(registry.createQuery('SELECT deviceId FROM devices.jobs').next());
  assert.deepEqual(sdkError(err), { name: 'ArgumentError', status: 400, hubName: 'GenericBadRequest', code: 400000,
                                    message: 'The query is invalid. Please check the format of the query and try again. ' +
                                             'Queries on devices.jobs support only SELECT *: projections and aggregates are not supported.' });
});
