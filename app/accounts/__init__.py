"""The people who use the service: account rules shared by the pages and the commands
(passwords, e-mail addresses). The SQL is app/store/users.py."""
