"""The staff console: a web page the daemon serves, where staff see their queues and work their cases."""
