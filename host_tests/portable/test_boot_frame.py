# The boot frame (cellex.boot_frame); the root keeps its failures in the reset record (both interpreters).
# MIT licence.
import json

import support
from actors import FAIL
from cellex.actor import Actor
from cellex.boot_frame import CAUSE_WATCHDOG, boot_frame, encode_boot_frame
from cellex.config import ActorSystemConfig
from cellex.reset_record import MemoryStore, ResetRecord, error_name
from cellex.root_escalation_sink import ROOT_RESET
from cellex.supervision import ESCALATE, SupervisorStrategy
from cellex.system import ActorSystem

_ERR = ValueError("bad reading")  # raised again and again: made once


class Faulty(Actor):
    def receive(self, msg):
        if msg is FAIL:
            raise _ERR


def load_vectors():
    with open(support.data_path("wire-vectors.json")) as f:
        return json.load(f)["boot_vectors"]


def _tuple(v):
    return None if v is None else tuple(v)


def test_the_encoder_matches_the_golden_boot_vectors():
    vectors = load_vectors()
    assert len(vectors) >= 2
    for v in vectors:
        a = v["input"]
        frame = encode_boot_frame(
            a["timestamp_ms"], a["cause"], a["valid"], a["boot_count"],
            _tuple(a.get("running")), _tuple(a.get("failure")),
        )  # fmt: skip
        assert frame.hex() == v["hex"], v["name"]
        assert len(frame) == v["wire_bytes"]


def _system(record, policy_reset=None):
    cfg = ActorSystemConfig(max_actors=4).with_reset_record(record)
    cfg.with_guardian_strategy(SupervisorStrategy(ESCALATE))
    if policy_reset is not None:
        cfg.with_root_policy(ROOT_RESET, reset=policy_reset)
    system = ActorSystem(cfg)
    system.spawn(Faulty(), "first")
    ref = system.spawn(Faulty(), "sensor")
    system.start()
    return system, ref


def test_root_reset_keeps_the_failure_in_the_record_before_it_resets():
    store = MemoryStore()
    record = ResetRecord(store)
    record.boot()
    seen = []

    def reset():
        # the record is complete when the reset function runs
        after = ResetRecord(MemoryStore(list(store.words)))
        seen.append(after.read() and after.has_failure)

    system, ref = _system(record, reset)
    ref.tell(FAIL)
    system.run_until_idle()
    assert seen == [True]
    # the next boot, same spawns: the boot frame names the actor by path
    nxt = ResetRecord(store)
    assert nxt.boot()
    assert (nxt.actor_id, error_name(nxt.error_index)) == (ref.id, "ValueError")
    system2, _ = _system(nxt)
    frame = boot_frame(nxt, system2, cause=CAUSE_WATCHDOG, timestamp_ms=5)
    assert b"/user/sensor" in frame and b"ValueError" in frame


def _noop():
    pass


def test_a_root_failure_kept_in_the_record_takes_no_heap_block():
    record = ResetRecord(MemoryStore())
    record.boot()
    system, ref = _system(record, _noop)  # ROOT_RESET with a reset that returns: the actor carries on

    def fail():
        ref.tell(FAIL)
        system.run_until_idle()

    support.assert_no_gross_alloc(fail)
    assert system.counters.root_failures >= 2
    assert system.counters.telemetry_errors == 0
    record.read()
    assert record.has_failure and record.actor_id == ref.id
