#!/usr/bin/env python3
"""Writes the seed corpus (tests/fuzz/corpus/<target>/) from the reference's sdk-captures, the
docs' examples and the tests' inputs. Run again after adding a seed here; the files are
committed, so CI never needs ../shared. Usage: tests/fuzz/make_seeds.py [path/to/shared]"""
import hashlib, json, os, sys

here = os.path.dirname(os.path.abspath(__file__))
shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "..", "shared")
captures = os.path.join(shared, "reference", "sdk-captures")
seeds = {t: [] for t in ["fuzz_query", "fuzz_topics", "fuzz_sas", "fuzz_twin_patch", "fuzz_rest"]}

def jsonl(name):
    path = os.path.join(captures, name)
    if not os.path.exists(path):
        return []
    return [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]

# Queries: the docs' examples (query-twins, query-jobs, the tutorial), grammar corners.
seeds["fuzz_query"] += [
    "SELECT * FROM devices",
    "SELECT * FROM devices WHERE tags.location.region = 'US'",
    "SELECT * FROM devices WHERE tags.location.region = 'US' AND properties.reported.telemetryConfig.sendFrequencyInSecs >= 60",
    "SELECT * FROM devices WHERE tags.location.region IN ['US', 'EU']",
    "SELECT deviceId, tags.building FROM devices WHERE NOT (tags.floor > 2 OR status = 'disabled')",
    "SELECT COUNT() AS numberOfDevices, properties.reported.telemetryConfig.status AS status FROM devices GROUP BY properties.reported.telemetryConfig.status",
    "SELECT COUNT() as totalNumberOfDevices FROM devices",
    "SELECT * FROM devices WHERE IS_DEFINED(tags.building) AND IS_NUMBER(tags.floor)",
    "SELECT * FROM devices WHERE STARTSWITH(deviceId, 'lock') AND ENDSWITH(deviceId, '1')",
    "SELECT * FROM devices.jobs WHERE devices.jobs.deviceId = 'myDeviceId'",
    "SELECT * FROM devices.jobs WHERE devices.jobs.jobId = 'myJobId' AND devices.jobs.status = 'completed'",
    "SELECT * FROM devices.modules WHERE properties.reported.status = 'scanning'",
    "SELECT AVG(tags.floor) AS a, MIN(tags.floor), MAX(tags.floor), SUM(tags.floor) FROM devices",
    "SELECT TOP 2 * FROM devices WHERE tags.[[group]] = 'x' AND tags.a.b != -1.5e3",
    "SELECT * FROM devices WHERE (tags.a + 2) * 3 % 4 / 1 - -tags.b < 10",
    "SELECT * FROM devices WHERE tags.s = 'it\\'s \\u00e9'",
    "tags.building = 43",
    "*",
    "deviceId IN ['lock-1', 'lock-2']",
    "SELECT * FROM devices WHERE " + "(" * 40 + "tags.x = 1" + ")" * 40,
]
# Topics: the first byte picks device (even) or module (odd) identity.
topics = [
    "devices/lock-1/messages/events/", "devices/lock-1/messages/events/$.ct=application%2Fjson&$.ce=utf-8&a=1&b",
    "devices/lock-1/messages/events/%24.mid=42&%24.cid=7&x=%F0%9F%98%80", "devices/lock-1/modules/m/messages/events/",
    "devices/lock-1/messages/devicebound/#", "devices/lock-1/modules/m/#", "$iothub/twin/GET/?$rid=1",
    "$iothub/twin/PATCH/properties/reported/?$rid=2", "$iothub/methods/res/200/?$rid=abc", "$iothub/methods/POST/#",
    "$iothub/twin/res/#", "$iothub/twin/PATCH/properties/desired/#", "$hub/in/lock-1/devices/lock-1/messages/events/",
    "$hub/out/lock-1%2Fm/$iothub/twin/res/200/?$rid=1", "$hub/conn/lock-1", "$hub/ctl/kick/dev%2Fmod", "$hub/state",
    "$hub/ctl/auth", "#", "$SYS/#", "mockhub.azure-devices.net/lock-1/?api-version=2021-04-12&DeviceClientType=x%2F1",
    "$.mid=1&$.to=%2Fdevices%2Flock-1&$.exp=2026-11-26T11:41:20Z&iothub-ack=full",
]
for p in jsonl("device-mqtt-packets.jsonl"):
    for k in ("topic", "username"):
        if p.get(k):
            topics.append(p[k])
    for s in p.get("subscriptions") or []:
        if isinstance(s, dict) and s.get("topic"):
            topics.append(s["topic"])
    if p.get("password"):
        seeds["fuzz_sas"].append(p["password"])
seeds["fuzz_topics"] += [b"\x00" + t.encode() for t in topics] + [b"\x01" + t.encode() for t in topics[:8]]
# SAS tokens and connection strings.
seeds["fuzz_sas"] += [
    "SharedAccessSignature sr=mockhub.azure-devices.net&sig=Oqw13xKa%2B%2BamQsIAll%2FDxklqwxcVQA88Yrc5AVAWxwU%3D&skn=iothubowner&se=1795696814",
    "SharedAccessSignature sr=h%2fdevices%2fd1&sig=AAAA&se=253402300799",
    "SharedAccessSignature SE=1&SR=h&SIG=AA%3D%3D&&unknown=1",
    "HostName=myhub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=c2VjcmV0PT0=",
    " HostName = h ; SharedAccessKeyName=service;SharedAccessKey=YQ==;DeviceId=x",
]
# Twin writes: first byte 0 PATCH, 1 PUT, 2 reported PATCH.
twin_bodies = [
    (0, {"tags": {"building": 43, "floor": 3}}), (0, {"properties": {"desired": {"building": 43, "floor": 3}}}),
    (0, {"tags": {"a": None, "b": {"c": [1, "x", True, 2.5]}}, "properties": {"desired": {"x": None}, "reported": {}}}),
    (1, {"tags": {"t": 1}, "properties": {"desired": {"d": {"e": "f"}}}}), (2, {"locked": True, "fw": {"v": "1.2.0"}}),
    (2, {"deep": {"er": None}}), (0, {"tags": {"l1": {"l2": {"l3": {"l4": {"l5": {"l6": {"l7": {"l8": {"l9": {"l10": 1}}}}}}}}}}}),
    (0, {"tags": {"big": 4503599627370495, "neg": -4503599627370496}}),
]
seeds["fuzz_twin_patch"] += [bytes([op]) + json.dumps(b).encode() for op, b in twin_bodies]
# REST: requests from the captures (their tokens replaced by the harness's own), and the extension.
def rest_request(method, path, body=""):
    return f"{method} {path}\n\n{body}"
reqs = []
for r in jsonl("service-requests.jsonl"):
    reqs.append(rest_request(r["method"], r["url"], r.get("body") or ""))
reqs += [
    rest_request("PUT", "/devices/lock-1?api-version=2021-04-12", '{"deviceId":"lock-1"}') + "\n===\n" +
    rest_request("PATCH", "/twins/lock-1?api-version=2021-04-12", '{"tags":{"building":43}}') + "\n===\n" +
    rest_request("POST", "/devices/query?api-version=2021-04-12", '{"query":"SELECT * FROM devices WHERE tags.building = 43"}'),
    rest_request("PUT", "/jobs/v2/job1?api-version=2021-04-12",
                 '{"jobId":"job1","type":"scheduleUpdateTwin","updateTwin":{"etag":"*","tags":{"fleet":"A"}},"queryCondition":"*"}'),
    rest_request("POST", "/twins/lock-1/methods?api-version=2021-04-12", '{"methodName":"lockDoor","payload":{}}'),
    rest_request("GET", "/jobs/v2/query?api-version=2021-04-12&jobType=scheduleUpdateTwin&jobStatus=completed"),
    rest_request("POST", "/_mockhub/reset"), rest_request("GET", "/_mockhub/devices/lock-1/messages/events"),
    "GET /devices/lock-1?api-version=2021-04-12\nIf-Match: \"*\"\nx-ms-max-item-count: 2\n\n",
    "GET /statistics/service?api-version=2021-04-12\nAuthorization: SharedAccessSignature sr=x&sig=AA%3D%3D&se=1\n\n",
]
seeds["fuzz_rest"] += reqs

for target, items in seeds.items():
    d = os.path.join(here, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for item in items:
        data = item if isinstance(item, bytes) else item.encode()
        with open(os.path.join(d, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
            f.write(data)
    print(f"{target}: {len(os.listdir(d))} seeds")
