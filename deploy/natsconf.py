#!/usr/bin/env python3
"""Writes deploy/nats.conf: one NATS user per Headroom service with exactly
the subjects and JetStream API calls that service makes. The streams are in
HEADROOM, with provisioning; each service is alone in an account of its own
that imports from HEADROOM what its publish rules allow (SERVICE_ACCOUNTS),
and the read-only gateway in READERS, which imports the read API (READ_API).

Run it after changing a service's NATS calls, the partition count or the
durable names (`python3 deploy/natsconf.py > deploy/nats.conf`);
deploy/natsconf_test.go runs the whole pipeline under the result and checks
it names every durable internal/bus creates.
"""

import os

PREFIX = "apm"

# -stream.partitions at provisioning (proto.DefaultPartitions unless set):
# the rules name each partition's durable, so provisioning with more needs
# a file written for them: PARTITIONS=16 python3 deploy/natsconf.py > …
PARTITIONS = int(os.environ.get("PARTITIONS", "8"))

# service user -> (group name, [(stream, durable base)], output subjects, output streams read back)
SERVICES = {
    "forecaster": ("forecaster", [("METRICS", "forecaster")], ["apm.forecast.>"], ["FORECASTS"]),
    "anomaly": ("anomaly", [("METRICS", "anomaly")], ["apm.anomaly.>"], ["ANOMALIES"]),
    "decider": ("decider", [("METRICS", "decider-metrics"), ("FORECASTS", "decider-forecast"),
                            ("ANOMALIES", "decider-anomaly")], ["apm.decision.>"], ["DECISIONS"]),
    "executor": ("executor", [("DECISIONS", "executor")], ["apm.scaling.>", "$KV.REPLICAS.>", "$KV.EXEC_LEASES.>"],
                 ["KV_REPLICAS", "KV_EXEC_LEASES"]),
}
DURABLES = [d for _, (_, ds, _, _) in SERVICES.items() for _, d in ds]

# The accounts: HEADROOM holds the streams, the replica bucket and
# provisioning; READERS the identities that only read (the gateway), with no
# JetStream of its own.
ACCOUNT, READERS = "HEADROOM", "READERS"

# Each trusted service's account, its own, without JetStream: a request
# asked from inside HEADROOM has its answer stored wherever its reply
# subject names, so a service asks through imports of exactly its publish
# rules (but $SRV.PING, which only its own copies answer), under the same
# subjects; the answer goes to _R_.… in HEADROOM and on to the reply
# subject in the service's account, where no stream listens.
SERVICE_ACCOUNTS = {user: user.upper() for user in ["collector", "forecaster", "anomaly", "decider", "executor"]}

# Connections one account may hold: its users' together and, in a cluster,
# on every node together (the nodes count each other's through the system
# account, clusterconf_test.go). The server's max_connections counts every
# account together on one node, so without this one identity (a stolen
# gateway or service password) could open them all and lock every other
# service out. Each service copy, gateway, `gateway tail`, `collector
# replay` and provisioning run holds one; a node that dies uncleanly stays
# counted for up to 2.5 minutes while its clients reconnect elsewhere, so a
# service's copies should stay under half of this. To raise it, raise
# max_connections in natsconf_head.txt with it: the seven accounts' bounds
# must fit within it together (TestNATSConfAccountBoundsFitTheServer).
ACCOUNT_MAX_CONNECTIONS = 128
LIMITS = "    limits { max_connections: %d }\n" % ACCOUNT_MAX_CONNECTIONS

# The part of HEADROOM's JetStream API that READERS imports, under the same
# subjects (so its clients need no API prefix), with the kind of answer each
# gets: a pull (MSG.NEXT) is answered by a stream of messages, the rest by
# one. An imported request is answered on a reply subject the server makes up
# in HEADROOM (_R_.<random>) and passed back to the reply subject the reader
# named, in READERS, where no stream stores anything. Nothing that creates,
# changes or deletes a stream or a message is exported, and no $JS.ACK or
# $JS.FC: a reader's consumers acknowledge nothing.
READ_API = [
    ("$JS.API.INFO", "singleton"),
    ("$JS.API.STREAM.NAMES", "singleton"),
    ("$JS.API.STREAM.LIST", "singleton"),
    ("$JS.API.STREAM.INFO.*", "singleton"),
    ("$JS.API.STREAM.MSG.GET.*", "singleton"),
    ("$JS.API.DIRECT.GET.>", "singleton"),
    ("$JS.API.CONSUMER.CREATE.>", "singleton"),
    ("$JS.API.CONSUMER.INFO.*.*", "singleton"),
    ("$JS.API.CONSUMER.LIST.*", "singleton"),
    ("$JS.API.CONSUMER.DELETE.*.*", "singleton"),
    ("$JS.API.CONSUMER.MSG.NEXT.*.*", "stream"),
]


def q(items, indent):
    pad = " " * indent
    lines, line = [], pad
    for i, it in enumerate(items):
        tok = '"%s"' % it + ("," if i < len(items) - 1 else "")
        if len(line) + len(tok) + 1 > 118 and line.strip():
            lines.append(line.rstrip())
            line = pad
        line += tok + " "
    lines.append(line.rstrip())
    return "\n".join(lines)


def indent(text, n):
    pad = " " * n
    return "\n".join(pad + l if l.strip() else l for l in text.split("\n"))


def durable_names(base):
    return [base] + ["%s-p%d" % (base, p) for p in range(PARTITIONS)]


def deny_durables():
    # The consumer API names a consumer in its sixth token
    # ($JS.API.CONSUMER.INFO.<stream>.<name>, CREATE with a filter after
    # it), but a pull, and the legacy durable create, in its seventh
    # ($JS.API.CONSUMER.MSG.NEXT.<stream>.<name>): without that rule the
    # gateway and the collector, whose pulls are wildcards, could pull from
    # a service's durable and take its partition's pin.
    out = []
    for base in DURABLES:
        for d in durable_names(base):
            out += ["$JS.API.CONSUMER.*.*.%s" % d, "$JS.API.CONSUMER.*.*.%s.>" % d, "$JS.API.CONSUMER.*.*.*.%s" % d]
    return out


def deny_bucket(stream, info):
    # A bucket's stream the gateway does not read: its keys' gets and any
    # consumer API on it: $JS.API.CONSUMER.<op>.<stream>, a name or filter
    # after it, and a pull's $JS.API.CONSUMER.MSG.NEXT.<stream>.<name>;
    # with info, its stream's info too.
    return (["$JS.API.STREAM.INFO.%s" % stream] if info else []) + direct(stream) + [
        "$JS.API.CONSUMER.*.%s" % stream, "$JS.API.CONSUMER.*.%s.>" % stream, "$JS.API.CONSUMER.*.*.%s.>" % stream]


def deny_leases():
    # The executor's lease bucket, for the readers, who do not use it (nor
    # wait for it: only the executor does): nothing, not even its info.
    return deny_bucket("KV_EXEC_LEASES", True)


def deny_replicas():
    # The replica bucket, for the readers, who do not read it: its info
    # only (every service waits for the bucket to exist, WaitStreams). No
    # list, info or delete of its consumers (CONSUMER.DELETE.*.* deleted
    # the collector's watch, named by CONSUMER.LIST: the collector then
    # stamped ticks with the old committed count until its watch noticed,
    # some 20 s, and again at each delete), no consumer of its own (a push
    # consumer aimed at a watch's deliver subject would hand the collector
    # an old revision as the current state), no get of its keys.
    return deny_bucket("KV_REPLICAS", False)


def inbox(user):
    # Each user receives replies and deliveries only on its own inbox prefix
    # (the services run with -nats.inbox-prefix _INBOX_<user>), so none can
    # read, or acknowledge, another's consumer deliveries.
    return "_INBOX_%s.>" % user


def direct(stream):
    return ["$JS.API.STREAM.MSG.GET.%s" % stream, "$JS.API.DIRECT.GET.%s" % stream, "$JS.API.DIRECT.GET.%s.>" % stream]


def service_allow(user):
    group, durables, outs, reads = SERVICES[user]
    member = "headroom_%s_%s" % (PREFIX, group)
    allow = outs + ["apm.dlq.%s" % user, "$JS.API.INFO", "$JS.API.STREAM.INFO.*", "$SRV.PING.%s" % member,
                                        "$SRV.LEAVE.%s" % member]
    streams = []
    for s, _ in durables:
        if s not in streams:
            streams.append(s)
    for s in reads + streams:
        allow += direct(s)
    for stream, base in durables:
        for p in range(PARTITIONS):
            d = "%s-p%d" % (base, p)
            # No CONSUMER.CREATE: provisioning creates the durables.
            allow += ["$JS.API.CONSUMER.INFO.%s.%s" % (stream, d), "$JS.API.CONSUMER.MSG.NEXT.%s.%s" % (stream, d),
                      "$JS.API.CONSUMER.UNPIN.%s.%s" % (stream, d), "$JS.ACK.%s.%s.>" % (stream, d)]
    return allow


def service_block(user, comment):
    group = SERVICES[user][0]
    member = "headroom_%s_%s" % (PREFIX, group)
    allow = service_allow(user)
    sub = [inbox(user), "$SRV.*", "$SRV.*.%s" % member, "$SRV.*.%s.*" % member]
    return """
    # %s
    { user: %s, password: $%s_PASSWORD
      permissions: {
        publish: { allow: [
%s
          ] }
        subscribe: { allow: [%s] }
        # group members answer each other's $SRV.PING (NATS micro discovery)
        allow_responses: true
      } }
""" % (comment, user, user.upper(), q(allow, 12), ", ".join('"%s"' % s for s in sub))


def collector_allow():
    return (["apm.metrics.>", "apm.dlq.collector", "$JS.API.INFO", "$JS.API.STREAM.INFO.*",
             "$SRV.PING.headroom_apm_collector", "$SRV.LEAVE.headroom_apm_collector"] + direct("METRICS") + direct("KV_REPLICAS") +
            ["$JS.API.CONSUMER.CREATE.METRICS.*", "$JS.API.CONSUMER.CREATE.METRICS.*.>", "$JS.API.CONSUMER.INFO.METRICS.*",
             "$JS.API.CONSUMER.MSG.NEXT.METRICS.*", "$JS.API.CONSUMER.DELETE.METRICS.*",
             "$JS.API.CONSUMER.CREATE.KV_REPLICAS", "$JS.API.CONSUMER.CREATE.KV_REPLICAS.>",
             "$JS.API.CONSUMER.INFO.KV_REPLICAS.*", "$JS.API.CONSUMER.DELETE.KV_REPLICAS.*", "$JS.FC.KV_REPLICAS.>"])


def response_type(subject):
    # A pull, and a direct get on the stream's own subject (the services
    # rebuild a partition with batched ones, answered by messages and an
    # end marker), is answered by a stream of messages, the rest by one. A
    # direct get with the subject appended ($JS.API.DIRECT.GET.<stream>.>,
    # the last message on it: LastEventTimes, a KV get) is answered once.
    # A stream answer's mapping in HEADROOM outlives its last message by
    # the export's response threshold (2 min by default, checked once per
    # threshold, so up to 4 min); a singleton's goes with its answer.
    stream = subject.startswith("$JS.API.CONSUMER.MSG.NEXT.") or (
        subject.startswith("$JS.API.DIRECT.GET.") and not subject.endswith(".>"))
    return "stream" if stream else "singleton"


def service_imports(allow):
    # Everything a service publishes goes to HEADROOM through an import,
    # but $SRV.PING, which its own copies answer, and $SRV.LEAVE, which its
    # own copies hear (a copy stopping says it leaves the group, so the
    # others take its share at once), in its own account.
    return [subj for subj in allow if not subj.startswith("$SRV.")]


# The push deliveries a service reads, under its inbox: the collector's
# replica watch (nats.go's KV watch is a push ordered consumer; the server
# delivers it in HEADROOM, to the collector's inbox there, and its flow
# control asks for an answer on $JS.FC.KV_REPLICAS.…).
PUSH = {"collector": [inbox("collector")]}


def main():
    head = open(__file__.replace("natsconf.py", "natsconf_head.txt")).read()
    provision = """
    # provision: the only identity that creates or changes streams and buckets.
    { user: provision, password: $PROVISION_PASSWORD
      permissions: {
        publish: { allow: ["$JS.API.>", "$KV.>"] }
        subscribe: { allow: ["_INBOX_provision.>"] }
      } }
"""
    blocks = {"collector": """
    # collector: publishes metrics; watches the replica bucket; resumes and
    # replays from METRICS through its own ordered consumers; its copies
    # split the pull sources by app in the group headroom_apm_collector.
    { user: collector, password: $COLLECTOR_PASSWORD
      permissions: {
        publish: {
          allow: [
%s
          ]
          deny: [
%s
          ]
        }
        subscribe: { allow: ["%s", "$SRV.*", "$SRV.*.headroom_apm_collector", "$SRV.*.headroom_apm_collector.*"] }
        # group members answer each other's $SRV.PING (NATS micro discovery)
        allow_responses: true
      } }
""" % (q(collector_allow(), 12), q(deny_durables(), 12), inbox("collector"))}
    blocks["forecaster"] = service_block("forecaster", "forecaster: its group's durables forecaster-p<i> on METRICS; publishes forecasts.")
    blocks["anomaly"] = service_block("anomaly", "anomaly: its group's durables anomaly-p<i> on METRICS; publishes scores and incidents.")
    blocks["decider"] = service_block("decider", "decider: its group's durables on METRICS, FORECASTS and ANOMALIES; the only\n    # publisher of decisions.")
    blocks["executor"] = service_block("executor", "executor: the only consumer that acts on decisions (durables executor-p<i>);\n    # publishes scaling events, writes the replica bucket and takes the tiers' leases (EXEC_LEASES).")
    allows = {"collector": collector_allow()}
    for user in SERVICES:
        allows[user] = service_allow(user)
    readers = ["""
    # gateway: read-only. It reads every stream but the DLQ, live and past,
    # through its own short-lived ordered consumers. Of the replica bucket,
    # which it does not read, only the info every service waits on: no get,
    # and no consumer API (its slots are for the collectors' watches, which
    # it could list and delete, and a push consumer of its own there, aimed
    # at a watch's deliver subject, _INBOX_collector.…, would hand the
    # collector an old revision as the current replica state). Nothing of
    # the executor's lease bucket, which it does not use: no info, get or
    # consumer.
    { user: gateway, password: $GATEWAY_PASSWORD
      permissions: {
        publish: {
          allow: ["$JS.API.INFO", "$JS.API.STREAM.NAMES", "$JS.API.STREAM.LIST", "$JS.API.STREAM.INFO.*",
                  "$JS.API.STREAM.MSG.GET.*", "$JS.API.DIRECT.GET.*", "$JS.API.DIRECT.GET.*.>",
                  "$JS.API.CONSUMER.CREATE.*.*", "$JS.API.CONSUMER.CREATE.*.*.>", "$JS.API.CONSUMER.INFO.*.*",
                  "$JS.API.CONSUMER.MSG.NEXT.*.*", "$JS.API.CONSUMER.DELETE.*.*", "$JS.API.CONSUMER.LIST.*"]
          deny: [
%s
          ]
        }
        # Its own inbox only, not apm.>: it reads live through ordered
        # consumers, and a push consumer delivers only while a client
        # subscribes to its deliver subject literally. With apm.decision.x.y
        # subscribed, a consumer of its own delivering there made the server
        # store copies of METRICS in DECISIONS (natsconf_test).
        subscribe: { allow: ["%s"] }
      } }
""" % (q(["apm.>", "$KV.>", "$JS.API.STREAM.MSG.GET.DLQ", "$JS.API.DIRECT.GET.DLQ", "$JS.API.DIRECT.GET.DLQ.>",
          "$JS.API.CONSUMER.CREATE.DLQ.>"] + deny_replicas() + deny_leases() + deny_durables(), 12),
       inbox("gateway"))]

    # HEADROOM's exports: each subject once, with every account that imports it.
    services, streams = {}, {}
    for subj, rt in READ_API:
        services.setdefault(subj, (rt, []))[1].append(READERS)
    for user in SERVICE_ACCOUNTS:
        for subj in service_imports(allows[user]):
            services.setdefault(subj, (response_type(subj), []))[1].append(SERVICE_ACCOUNTS[user])
        for subj in PUSH.get(user, []):
            streams.setdefault(subj, []).append(SERVICE_ACCOUNTS[user])
    exports = ["      { service: \"%s\", response_type: %s, accounts: [%s] }" % (subj, rt, ", ".join(accs))
               for subj, (rt, accs) in services.items()]
    exports += ["      { stream: \"%s\", accounts: [%s] }" % (subj, ", ".join(accs)) for subj, accs in streams.items()]

    def imports(subjects, stream_subjects=()):
        out = ['      { service: { account: %s, subject: "%s" } }' % (ACCOUNT, subj) for subj in subjects]
        out += ['      { stream: { account: %s, subject: "%s" } }' % (ACCOUNT, subj) for subj in stream_subjects]
        return "\n".join(out)

    accounts = ["""
  # The streams, the replica bucket and provisioning, the one identity that
  # asks JetStream in it directly. Everyone else reaches it through the
  # exports below, each to the accounts that import it.
  %s {
    jetstream: enabled
%s    users = [%s
    ]
    exports = [
%s
    ]
  }
""" % (ACCOUNT, LIMITS, indent(provision.rstrip("\n"), 2), "\n".join(exports))]
    for user, acc in SERVICE_ACCOUNTS.items():
        accounts.append("""
  # %s: the %s's copies, alone. No JetStream of its own: it reaches
  # %s's through the imports, on the same subjects, and answers only its
  # own copies' $SRV.PING.
  %s {
%s    users = [%s
    ]
    imports = [
%s
    ]
  }
""" % (acc, user, ACCOUNT, acc, LIMITS, indent(blocks[user].rstrip("\n"), 2),
       imports(service_imports(allows[user]), PUSH.get(user, []))))
    accounts.append("""
  # The identities that only read. No JetStream of their own: they reach
  # %s's through the imports, on the same subjects.
  %s {
%s    users = [%s
    ]
    imports = [
%s
    ]
  }
""" % (ACCOUNT, READERS, LIMITS, indent("".join(readers).rstrip("\n"), 2), imports([subj for subj, _ in READ_API])))
    print(head + "\naccounts {" + "".join(accounts).rstrip("\n") + "\n}\n", end="")


if __name__ == "__main__":
    main()
