"""The class hub's spawner: JupyterHub's LocalProcessSpawner (each student's JupyterLab runs as that
student, started by the hub as root) plus

- the lab notebooks: on every start, each original in /opt/cifarlab/cifarlab/notebooks that the
  student's ~/cifarlab-labs lacks is copied there (owned by the student); a notebook the student
  already has is never overwritten, so a teacher's update reaches only those who do not have it
  (they can delete or rename theirs to get the new one);
- privacy: the student's home is made mode 700, and the student gets a temporary folder of their
  own, /tmp/cifarlab-tmp-UID (TMPDIR of their server, terminals and kernels, so GoNB's modules
  and anything else that uses os.TempDir): made by root, 0700 and the student's; one already there
  that is not a real folder of that student (a classmate's, a symlink) is moved aside, never
  followed;
- fairness without containers: the server (and every kernel and cell program it starts later,
  which inherit it) goes into a cgroup of its own, cifarlab-hub/USER, with the same CPU weight for
  every student (cgroup v1 cpu.shares or v2 cpu.weight), so a student running many processes gets
  no more CPU than one running a single one; a memory limit (CIFARLAB_HUB_MEM_LIMIT, 3G unless
  set; 0 for none) and a limit on processes and threads (CIFARLAB_HUB_PIDS_LIMIT, 1024 unless set;
  0 for none), so that one student's runaway cell stops only that student's cell (the kernel's
  cellguard says so in the cell). The cgroup's peak memory is what hub/test.sh reports;
- nbgrader: a teacher (a hub admin: the teachers' group) gets their home as JupyterLab's root,
  with the course folder ~/cifarlab-course (nbgrader's CourseDirectory.root) and, in its source/,
  each assignment of /opt/cifarlab/cifarlab/hub/assignments that it lacks (never overwritten, as
  the labs); a student gets nbgrader's assignment list only (fetch, submit, fetch feedback):
  JUPYTER_CONFIG_PATH adds a folder that turns off the formgrader, the course list and the
  assignment-creation panel (their server extensions and JupyterLab plugins).
"""
import asyncio
import os
import pwd
import secrets
import shutil
import signal
import stat
import time

from jupyterhub.spawner import LocalProcessSpawner
from traitlets import Unicode, Integer

CG1 = "/sys/fs/cgroup"


def cgroup_dirs(user):
    """The cgroup folders for USER: v1 (cpu, memory, pids) or v2 (unified)."""
    if os.path.exists(os.path.join(CG1, "cgroup.controllers")):  # v2
        return [os.path.join(CG1, "cifarlab-hub", user)]
    return [os.path.join(CG1, c, "cifarlab-hub", user) for c in ("cpu", "memory", "pids")]


def parse_size(text):
    """Bytes from "3221225472", "3G", "3072M", "512k" (powers of 1024); 0, "" or "off": no limit."""
    t = (text or "").strip().lower().removesuffix("ib").removesuffix("b")
    if t in ("", "0", "off", "none"):
        return 0
    mult = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}.get(t[-1], 1)
    if mult != 1:
        t = t[:-1]
    try:
        return int(float(t) * mult)
    except ValueError:
        raise ValueError("CIFARLAB_HUB_MEM_LIMIT=%r: want bytes or a size such as 3G or 2560M (0: no limit)" % text)


def write(path, value):
    with open(path, "w") as f:
        f.write(str(value))


class CifarlabSpawner(LocalProcessSpawner):
    labs_source = Unicode("/opt/cifarlab/cifarlab/notebooks", config=True,
                          help="The original lab notebooks")
    labs_dir = Unicode("cifarlab-labs", config=True,
                       help="The student's folder of notebooks, relative to their home")
    mem_limit_bytes = Integer(parse_size(os.environ.get("CIFARLAB_HUB_MEM_LIMIT", "3G")), config=True,
                              help="Per-student memory limit in bytes, page cache included (0: none)")
    pids_limit = Integer(int(os.environ.get("CIFARLAB_HUB_PIDS_LIMIT", "1024") or 0), config=True,
                         help="Per-student limit on processes and threads together (0: none)")

    tmp_root = Unicode("/tmp", config=True,
                       help="Where each student's private temporary folder cifarlab-tmp-UID is made")
    assignments_source = Unicode("/opt/cifarlab/cifarlab/hub/assignments", config=True,
                                 help="The nbgrader assignments (one folder each) copied to a teacher's course")
    course_dir = Unicode("cifarlab-course", config=True,
                         help="A teacher's nbgrader course folder, relative to their home")
    student_config_dir = Unicode("", config=True,
                                 help="A Jupyter config folder put first on a student's JUPYTER_CONFIG_PATH")
    tmp_path = ""

    def copy_labs(self):
        pw = pwd.getpwnam(self.user.name)
        os.chmod(pw.pw_dir, 0o700)
        dst = os.path.join(pw.pw_dir, self.labs_dir)
        if not os.path.isdir(dst):
            os.mkdir(dst, 0o755)
            os.chown(dst, pw.pw_uid, pw.pw_gid)
        for name in sorted(os.listdir(self.labs_source)):
            if not name.endswith(".ipynb"):
                continue
            target = os.path.join(dst, name)
            if os.path.lexists(target):
                continue  # the student's own copy: never overwritten
            tmp = target + ".cifarlab-new"
            shutil.copyfile(os.path.join(self.labs_source, name), tmp)
            os.chown(tmp, pw.pw_uid, pw.pw_gid)
            os.chmod(tmp, 0o644)
            os.rename(tmp, target)
        return dst

    def copy_assignments(self):
        """Copies each assignment folder of assignments_source that the teacher's
        ~/COURSE_DIR/source lacks (never one they have: they may have edited it), owned by them."""
        pw = pwd.getpwnam(self.user.name)
        source = os.path.join(pw.pw_dir, self.course_dir, "source")
        for d in (os.path.dirname(source), source):
            if not os.path.isdir(d):
                os.mkdir(d, 0o755)
                os.chown(d, pw.pw_uid, pw.pw_gid)
        if not os.path.isdir(self.assignments_source):
            return
        for name in sorted(os.listdir(self.assignments_source)):
            src, dst = os.path.join(self.assignments_source, name), os.path.join(source, name)
            if not os.path.isdir(src) or os.path.lexists(dst):
                continue
            tmp = dst + ".cifarlab-new"
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.copytree(src, tmp)
            for root, dirs, files in os.walk(tmp):
                for n in [root] + [os.path.join(root, f) for f in dirs + files]:
                    os.lchown(n, pw.pw_uid, pw.pw_gid)
            os.rename(tmp, dst)

    def private_tmp(self):
        """Makes sure TMP_ROOT/cifarlab-tmp-UID is a real folder (lstat: a symlink is not followed)
        owned by the student with mode 0700, and returns its path. Anything else under that name
        (a classmate's folder or file, a symlink) is renamed to NAME.refused-TIME-RANDOM, and a
        new folder is made by root (so no one else can swap it in the sticky /tmp) before it is
        given to the student through its descriptor."""
        pw = pwd.getpwnam(self.user.name)
        path = os.path.join(self.tmp_root, "cifarlab-tmp-%d" % pw.pw_uid)
        flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
        for _ in range(5):
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                st = None
            if st is not None:
                if stat.S_ISDIR(st.st_mode) and st.st_uid == pw.pw_uid:
                    try:
                        fd = os.open(path, flags)
                    except OSError:
                        continue  # swapped since the lstat: look again
                    try:
                        now = os.fstat(fd)
                        if (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino):
                            if stat.S_IMODE(now.st_mode) != 0o700:
                                os.fchmod(fd, 0o700)
                            return path
                    finally:
                        os.close(fd)
                    continue
                aside = "%s.refused-%d-%s" % (path, int(time.time()), secrets.token_hex(4))
                try:
                    os.rename(path, aside)
                except FileNotFoundError:
                    continue
                self.log.warning("cifarlab: %s was not %s's own folder (%s, owner uid %d): moved to %s",
                                 path, self.user.name, "symlink" if stat.S_ISLNK(st.st_mode) else
                                 "folder" if stat.S_ISDIR(st.st_mode) else "file", st.st_uid, aside)
                continue
            try:
                os.mkdir(path, 0o700)
            except FileExistsError:
                continue  # planted since the lstat: look again
            fd = os.open(path, flags)
            try:
                os.fchown(fd, pw.pw_uid, pw.pw_gid)
                os.fchmod(fd, 0o700)
            finally:
                os.close(fd)
            return path
        raise RuntimeError("cifarlab: could not make a private temporary folder %s for %s" % (path, self.user.name))

    def get_env(self):
        env = super().get_env()
        if self.tmp_path:
            env["TMPDIR"] = self.tmp_path
        if not self.user.admin and self.student_config_dir:
            env["JUPYTER_CONFIG_PATH"] = self.student_config_dir
        return env

    def join_cgroup(self, pid):
        """Puts PID (the server) into the student's cgroups, each made with its limits first: the CPU
        weight, the memory limit (v1: memsw too, so swap is no way round it) and the process limit.
        A limit that is off is written as such, so a lower limit of an earlier start does not stay."""
        mem = self.mem_limit_bytes or None
        for d in cgroup_dirs(self.user.name):
            try:
                os.makedirs(d, exist_ok=True)
                if "/cpu/" in d:
                    write(os.path.join(d, "cpu.shares"), 1024)
                elif "/memory/" in d:
                    v = mem or -1
                    # memsw must stay >= the limit: written before and after it.
                    for f in ("memory.memsw.limit_in_bytes", "memory.limit_in_bytes", "memory.memsw.limit_in_bytes"):
                        try:
                            write(os.path.join(d, f), v)
                        except OSError:
                            if f == "memory.limit_in_bytes":
                                raise
                elif "/pids/" in d:
                    write(os.path.join(d, "pids.max"), self.pids_limit or "max")
                else:  # v2
                    parent = os.path.dirname(d)
                    try:
                        write(os.path.join(parent, "cgroup.subtree_control"), "+cpu +memory +pids")
                    except OSError:
                        pass
                    write(os.path.join(d, "memory.max"), mem or "max")
                    try:
                        write(os.path.join(d, "memory.swap.max"), 0 if mem else "max")
                    except OSError:
                        pass  # no swap accounting
                    write(os.path.join(d, "pids.max"), self.pids_limit or "max")
                write(os.path.join(d, "cgroup.procs"), pid)
            except OSError as e:
                self.log.warning("cifarlab: no cgroup %s for %s: %s", d, self.user.name, e)

    def cgroup_pids(self):
        pids = set()
        for d in cgroup_dirs(self.user.name):
            try:
                pids.update(int(p) for p in open(os.path.join(d, "cgroup.procs")).read().split())
            except OSError:
                pass
        return pids

    async def stop(self, now=False):
        """Stops the server as LocalProcessSpawner does, then whatever the student still runs in
        their cgroup (kernels, gopls, cell programs, nbconvert's Chromium): SIGTERM, then SIGKILL
        after 5 s. The hub's own processes are never in a student's cgroup."""
        await super().stop(now=now)
        for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 2)):
            pids = self.cgroup_pids()
            if not pids:
                break
            for p in pids:
                try:
                    os.kill(p, sig)
                except OSError:
                    pass
            for _ in range(wait * 10):
                if not self.cgroup_pids():
                    break
                await asyncio.sleep(0.1)

    async def start(self):
        self.notebook_dir = "~/" + self.labs_dir
        self.copy_labs()
        if self.user.admin:  # a teacher: the labs and the nbgrader course side by side
            self.notebook_dir = "~"
            self.copy_assignments()
        self.tmp_path = self.private_tmp()
        self.default_url = "/lab"
        ip_port = await super().start()
        self.join_cgroup(self.pid)
        return ip_port
