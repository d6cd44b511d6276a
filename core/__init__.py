"""kefu (客服): a daemon that runs the routine of Chinese customer-service departments."""

__version__ = "0.1.0"
