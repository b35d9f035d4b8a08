"""Background training jobs for the app: `get_runner()` and the narrow interface pages use
(submit, events, status, cancel, cancel_session, result, pace), run by a warm pool of worker processes;
`deadline`, which a job's training loops ask when to stop early to finish within the time limit."""
from zoo.jobs.pace import Pace
from zoo.jobs.runner import JobLimitError, JobRunner, JobStatus, get_runner

__all__ = ["JobLimitError", "JobRunner", "JobStatus", "Pace", "get_runner"]
