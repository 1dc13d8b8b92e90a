"""Everything RQ-specific: the job names and ids, every enqueue (queue.py) and the worker
classes (workers.py). The job functions RQ runs are in worker/jobs.py."""
