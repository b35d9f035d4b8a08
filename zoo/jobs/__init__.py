"""Background training jobs for the app: `get_runner()` and the narrow interface pages use
(submit, events, status, cancel, cancel_session, result, release, pace), run by worker processes started on
demand or, with ZOO_JOB_BACKEND=ray, as tasks on a Ray cluster (`zoo.jobs.ray_runner`); `deadline`,
which a job's training loops ask when to stop early to finish within the time limit;
LIVE_FRAME, the key that marks a live board's frame, of which the runner keeps only the newest whole."""
from zoo.jobs.history import LIVE_FRAME
from zoo.jobs.pace import Pace
from zoo.jobs.records import JobLimitError, JobStatus
from zoo.jobs.runner import JobRunner, get_runner

__all__ = ["LIVE_FRAME", "JobLimitError", "JobRunner", "JobStatus", "Pace", "get_runner"]
