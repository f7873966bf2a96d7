# JupyterHub for a cifarlab class on one server (hub/setup.sh copies it into
# /opt/cifarlab/hub/etc/jupyterhub/; ./labs.sh hub and hub/test.sh start the hub with it).
# Settings from the environment (all optional):
#   CIFARLAB_HUB_IP, CIFARLAB_HUB_PORT        where students connect (127.0.0.1:8000)
#   CIFARLAB_HUB_API_PORT, CIFARLAB_HUB_PROXY_API_PORT   internal, on 127.0.0.1 (8081, 8001)
#   CIFARLAB_HUB_STUDENTS, CIFARLAB_HUB_TEACHERS  Unix groups allowed in / made admins
#                                              (cifarlab-students, cifarlab-teachers)
#   CIFARLAB_HUB_THREADS                      GOMAXPROCS of each kernel (unset: all cores; the
#                                              cgroup weights share the CPU fairly anyway)
#   CIFARLAB_HUB_MEM_LIMIT                    per-student memory limit, bytes or 3G/2560M (3G; 0: none)
#   CIFARLAB_HUB_PIDS_LIMIT                   per-student processes and threads (1024; 0: none)
#   CIFARLAB_HUB_IDLE_TIMEOUT                 seconds without activity before a student's server is
#                                              stopped by jupyterhub-idle-culler (3600; 0: never)
#   CIFARLAB_HUB_GOCACHE                      the kernels' Go build cache: shared (the packages
#                                              compiled at set-up, read through GOCACHEPROG), copy
#                                              (copied into ~/.cache/go-build), private (shared)
#   CIFARLAB_HUB_COURSE                       nbgrader's course id (cifarlab)
#   CIFARLAB_HUB_EXCHANGE                     nbgrader's exchange folder (/srv/cifarlab/exchange,
#                                              made by hub/setup.sh: root's, mode 1777)
#   CIFARLAB_HUB_GRADE_TIMEOUT                seconds a cell may run in autograding (3600)
#   CIFARLAB_HUB_STATE                        the hub's database and cookie secret
#   CIFARLAB_QUICK                            passed to every student's kernels (tests)
import os
import sys

env = os.environ.get
PREFIX = env("CIFARLAB_HUB_PREFIX", "/opt/cifarlab")
VENV = os.path.join(PREFIX, "hub")
STATE = env("CIFARLAB_HUB_STATE", "/var/lib/cifarlab-hub")

c = get_config()  # noqa: F821

c.JupyterHub.bind_url = "http://%s:%s" % (env("CIFARLAB_HUB_IP", "127.0.0.1"), env("CIFARLAB_HUB_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(env("CIFARLAB_HUB_API_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:%s" % env("CIFARLAB_HUB_PROXY_API_PORT", "8001")
c.ConfigurableHTTPProxy.command = [os.path.join(VENV, "bin", "configurable-http-proxy")]
c.JupyterHub.db_url = "sqlite:///" + os.path.join(STATE, "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = os.path.join(STATE, "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.pid_file = os.path.join(STATE, "proxy.pid")
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

# Students and teachers are system users (PAM: their Unix passwords); the groups say who may log in
# and who administers.
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.allowed_groups = {env("CIFARLAB_HUB_STUDENTS", "cifarlab-students"), env("CIFARLAB_HUB_TEACHERS", "cifarlab-teachers")}
c.PAMAuthenticator.admin_groups = {env("CIFARLAB_HUB_TEACHERS", "cifarlab-teachers")}
c.PAMAuthenticator.open_sessions = False
c.JupyterHub.admin_access = False  # a teacher manages servers and users, but does not enter a student's

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
c.JupyterHub.spawner_class = "cifarlab_spawner.CifarlabSpawner"
c.Spawner.cmd = [os.path.join(VENV, "bin", "jupyterhub-singleuser")]
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
c.CifarlabSpawner.labs_source = os.path.join(PREFIX, "cifarlab", "notebooks")
c.CifarlabSpawner.assignments_source = os.path.join(PREFIX, "cifarlab", "hub", "assignments")
c.CifarlabSpawner.student_config_dir = os.path.join(VENV, "etc", "jupyter-student")
spawn_env = {"PATH": os.path.join(VENV, "bin") + ":/usr/local/bin:/usr/bin:/bin"}
for k in ("CIFARLAB_QUICK", "CIFARLAB_HUB_THREADS", "CIFARLAB_HUB_GOCACHE", "CHROMIUM",
          "CIFARLAB_HUB_COURSE", "CIFARLAB_HUB_EXCHANGE", "CIFARLAB_HUB_GRADE_TIMEOUT"):
    if env(k):
        spawn_env[k] = env(k)
# Idle servers stop (their memory goes back): jupyterhub-idle-culler as a service of the hub, with
# only the scopes it needs. A server is idle when neither the student's browser nor any of their
# kernels did anything; activity is reported to the hub at least every quarter of the timeout.
idle = int(env("CIFARLAB_HUB_IDLE_TIMEOUT", "3600") or 0)
if idle > 0:
    every = max(10, min(300, idle // 4))
    c.JupyterHub.services = [{
        "name": "idle-culler",
        "command": [sys.executable, "-m", "jupyterhub_idle_culler", "--timeout=%d" % idle, "--cull-every=%d" % every],
    }]
    c.JupyterHub.load_roles = [{
        "name": "idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    }]
    c.JupyterHub.last_activity_interval = every
    spawn_env["JUPYTERHUB_ACTIVITY_INTERVAL"] = str(every)
c.Spawner.environment = spawn_env
# Servers stop with the hub.
c.JupyterHub.shutdown_on_logout = False
