# Preallocated exceptions of the user's own classes: pinned, they raise forever on a flat heap.
import support
from actors import Recorder
from cellex.config import ActorSystemConfig
from cellex.errors import preallocated
from cellex.supervision import RESUME, SupervisorStrategy
from cellex.system import ActorSystem
from support import heap_growth


class SensorTimeout(Exception):
    pass


def _resuming_leaf():
    system = ActorSystem(ActorSystemConfig(max_actors=4))
    sup = system.spawn(Recorder(), "sensors", supervisor=SupervisorStrategy(RESUME))
    leaf = system.spawn(Recorder(), "imu", parent=sup)
    system.start()
    return system, leaf


def _raise_through_the_runtime(system, leaf, error, count):
    def failures():
        for _ in range(count):
            leaf.tell(error)
            system.run_until_idle()

    return failures


def test_preallocated_returns_the_instance_it_was_given():
    e = SensorTimeout("i2c")
    assert preallocated(e) is e
    assert e.args == ("i2c",)


@support.board_budget(300)
def test_a_pinned_user_exception_raised_through_the_runtime_leaves_the_heap_flat():
    system, leaf = _resuming_leaf()
    failures = _raise_through_the_runtime(system, leaf, preallocated(SensorTimeout("i2c")), 500)
    failures()
    limit = 0 if support.MICROPYTHON else 1024  # CPython: int boxing moves a few bytes
    assert heap_growth(failures, 2) <= limit
    assert system.counters.resumes >= 1500


@support.board_budget(300)
def test_an_unpinned_user_exception_grows_the_heap_on_micropython():
    # The trap preallocated() exists for: every raise of the same instance of a
    # user class appends to its traceback, and nothing can clear it.
    if not support.MICROPYTHON:
        support.skip("CPython: cellex clears every handled failure's traceback")
    system, leaf = _resuming_leaf()
    failures = _raise_through_the_runtime(system, leaf, SensorTimeout("i2c"), 200)
    failures()
    assert heap_growth(failures, 1) >= 200 * 8
