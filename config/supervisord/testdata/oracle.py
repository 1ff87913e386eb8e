# Prints what supervisord (Debian's package) makes of a config, as JSON:
# the oracle TestAgainstSupervisor compares the import with. Run with
# /usr/bin/python3 oracle.py CONFIG.
import json, shlex, signal, sys
from supervisor.options import ServerOptions
from supervisor.datatypes import Automatic, RestartUnconditionally, RestartWhenExitUnexpected

opts = ServerOptions()
opts.configfile = sys.argv[1]
opts.here = __import__("os").path.dirname(__import__("os").path.abspath(sys.argv[1]))
sec = opts.read_config(sys.argv[1])

def log(v):
    if v is Automatic:
        return "AUTO"
    return v or ""

out = []
for g in sec.process_group_configs:
    if type(g).__name__ != "ProcessGroupConfig":
        continue
    for p in g.process_configs:
        ar = p.autorestart
        out.append({
            "group": g.name, "name": p.name, "priority": g.priority,
            "argv": shlex.split(p.command), "env": p.environment or {},
            "directory": p.directory or "", "umask": -1 if p.umask is None else p.umask,
            "autostart": p.autostart, "redirect_stderr": p.redirect_stderr,
            "autorestart": "always" if ar is RestartUnconditionally else "unexpected" if ar is RestartWhenExitUnexpected else "never",
            "exitcodes": p.exitcodes, "startsecs": p.startsecs, "startretries": p.startretries,
            "stopsignal": signal.Signals(p.stopsignal).name[3:], "stopwaitsecs": p.stopwaitsecs,
            "stdout": log(p.stdout_logfile), "stderr": log(p.stderr_logfile),
            "stdout_maxbytes": p.stdout_logfile_maxbytes, "stdout_backups": p.stdout_logfile_backups,
            "stderr_maxbytes": p.stderr_logfile_maxbytes, "stderr_backups": p.stderr_logfile_backups,
        })
servers = [{k: v for k, v in s.items() if k in ("file", "host", "port", "username", "password")} for s in sec.server_configs]
json.dump({"logfile": sec.logfile, "processes": out, "servers": servers}, sys.stdout, indent=1, sort_keys=True)
