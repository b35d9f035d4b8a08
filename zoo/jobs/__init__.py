"""Background training jobs for the app: `get_runner()` and the narrow interface pages use
(submit, events, status, cancel, cancel_session, result), run by a warm pool of worker processes."""
from zoo.jobs.runner import JobLimitError, JobRunner, JobStatus, get_runner

__all__ = ["JobLimitError", "JobRunner", "JobStatus", "get_runner"]
