"""The Runs page's analysis of a session's training runs (`zoo.jobs.run_log.RunRecord`), as TensorBoard's
scalars board does it: `curves` (smoothing, x axes, groups of runs with the same settings), `files` (CSV and
JSON export and a validated import), `repeat` (a run again with other seeds) and `figures`."""
