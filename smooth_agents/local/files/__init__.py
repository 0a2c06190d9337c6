"""Files on disk: what users upload and what tasks leave behind.

``storage`` keeps profiles, uploaded files and extensions under the data dir; ``task_files``
collects a task's downloads and its recording and serves them; ``links`` signs the per-task
tokens that let a person open a task's files and live view without the API key.

Imports from the rest of the server: only the shared modules (``errors``).
"""
