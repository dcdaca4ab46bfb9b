# Spawning: paths, ids, and clear errors for bad set-up.
from actors import Recorder
from cellex.config import ActorSystemConfig
from cellex.supervision import RESTART
from cellex.system import ActorSystem
from support import assert_raises


def _system(max_actors=4):
    return ActorSystem(ActorSystemConfig(max_actors=max_actors))


def test_paths_name_every_segment_from_the_root():
    system = _system()
    sensors = system.spawn(Recorder(), "sensors")
    imu = system.spawn(Recorder(), "imu", parent=sensors)
    assert str(imu.path) == "/user/sensors/imu"
    assert imu.path.segments == ("user", "sensors", "imu")
    assert system.lookup("/user/sensors/imu") is imu


def test_children_lists_direct_children_in_spawn_order():
    system = _system()
    top = system.spawn(Recorder(), "top")
    a = system.spawn(Recorder(), "a", parent=top)
    system.spawn(Recorder(), "grandchild", parent=a)
    b = system.spawn(Recorder(), "b", parent=top)
    assert system.children(top) == [a, b]
    assert system.children(None) == [top]


def test_actor_ids_are_unique_and_the_actor_knows_its_ref():
    system = _system()
    actor = Recorder()
    a = system.spawn(actor, "a")
    b = system.spawn(Recorder(), "b")
    assert a.id != b.id
    assert actor.ref is a
    assert actor.system is system


def test_spawning_past_max_actors_is_a_clear_error():
    system = _system(max_actors=2)
    system.spawn(Recorder(), "a")
    system.spawn(Recorder(), "b")
    e = assert_raises(ValueError, system.spawn, Recorder(), "c")
    assert "max_actors=2" in e.args[0]


def test_a_duplicate_name_under_the_same_parent_is_a_clear_error():
    system = _system()
    system.spawn(Recorder(), "a")
    e = assert_raises(ValueError, system.spawn, Recorder(), "a")
    assert "duplicate actor name 'a' under /user" in e.args[0]


def test_the_same_name_under_different_parents_is_fine():
    system = _system()
    p = system.spawn(Recorder(), "p")
    q = system.spawn(Recorder(), "q")
    assert system.spawn(Recorder(), "x", parent=p).path != system.spawn(Recorder(), "x", parent=q).path


def test_a_bad_supervisor_strategy_is_a_clear_error():
    system = _system()
    e = assert_raises(ValueError, system.spawn, Recorder(), "a", None, 0, "one-for-one")
    assert "SupervisorStrategy" in e.args[0]


def test_a_bad_directive_is_a_clear_error():
    system = _system()
    e = assert_raises(ValueError, system.spawn, Recorder(), "a", None, 0, None, 42)
    assert "directive" in e.args[0]
    assert system.spawn(Recorder(), "b", None, 0, None, RESTART).directive == RESTART


def test_a_name_with_a_slash_is_a_clear_error():
    e = assert_raises(ValueError, _system().spawn, Recorder(), "a/b")
    assert "bad actor name" in e.args[0]


def test_spawning_after_start_must_be_asked_for_explicitly():
    system = _system()
    system.start()
    e = assert_raises(RuntimeError, system.spawn, Recorder(), "late")
    assert "dynamic=True" in e.args[0]
    late = system.spawn(Recorder(), "late", dynamic=True)
    assert late.tell(1)
    assert system.run_until_idle() == 1


def test_bad_capacities_are_clear_errors():
    assert "max_actors" in assert_raises(ValueError, ActorSystemConfig, 0).args[0]
    assert "mailbox_capacity" in assert_raises(ValueError, ActorSystemConfig, 4, 0).args[0]
    assert "snapshot_slots" in assert_raises(ValueError, ActorSystemConfig, 4, 4, 0).args[0]
