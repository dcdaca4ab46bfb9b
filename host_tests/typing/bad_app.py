# A user's app that uses the cellex API wrongly: basedpyright must report exactly the lines
# marked `# expect: <rule>` (host_tests/test_typed_api.py). Never run.
from cellex.actor import Actor
from cellex.config import ActorSystemConfig
from cellex.supervision import RESTART, SupervisorStrategy
from cellex.system import ActorSystem


class Imu(Actor):
    def receive(self, msg: object) -> None:
        self.ref.tel("again")  # expect: reportAttributeAccessIssue


system = ActorSystem(ActorSystemConfig(max_actors="8"))  # expect: reportArgumentType
imu = system.spawn(Imu(), 42)  # expect: reportArgumentType
system.spawn(Imu(), "baro", supervisor=RESTART)  # expect: reportArgumentType
system.spawn(Imu(), "gyro", parent=SupervisorStrategy())  # expect: reportArgumentType
system.send_every(imu, "tick")  # expect: reportCallIssue
system.start()
failures: str = system.counters.failures  # expect: reportAssignmentType
system.run_until_idel()  # expect: reportAttributeAccessIssue
