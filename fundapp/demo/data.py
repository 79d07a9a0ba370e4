DEMO_PASSWORD = "demo-password-2026"


def demo_loaded(session):
    return False


def load_demo(session):
    raise NotImplementedError
