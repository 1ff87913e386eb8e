# Answers, with Python's own configparser, shlex and % operator, the cases
# TestPythonSemantics sends on stdin (JSON), so the Go replicas are checked
# against the real thing. Stdlib only; dict_of_key_value_pairs is copied
# from supervisor/datatypes.py.
import configparser, io, json, shlex, sys

def pairs(arg):
    lexer = shlex.shlex(str(arg), posix=True)
    lexer.wordchars += '/.+-():'
    tokens = list(lexer)
    D, i = [], 0
    while i < len(tokens):
        k_eq_v = tokens[i:i+3]
        if len(k_eq_v) != 3 or k_eq_v[1] != '=':
            raise ValueError("pairs")
        D.append([k_eq_v[0], k_eq_v[2]])
        i += 4
    seen, out = {}, []
    for k, v in D:
        if k in seen:
            out[seen[k]][1] = v
        else:
            seen[k] = len(out)
            out.append([k, v])
    return out

def ini(text):
    p = configparser.RawConfigParser(inline_comment_prefixes=(';', '#'), strict=False)
    # As supervisord opens files: universal newlines.
    p.read_file(io.TextIOWrapper(io.BytesIO(text.encode()), encoding='utf-8', newline=None))
    out = [["DEFAULT", [[k, v] for k, v in p._defaults.items()]]]
    for s in p.sections():
        out.append([s, [[k, v] for k, v in p._sections[s].items()]])
    return out

def run(case):
    kind, arg = case["kind"], case["arg"]
    try:
        if kind == "ini":
            return {"ok": ini(arg)}
        if kind == "env":
            return {"ok": pairs(arg)}
        if kind == "split":
            return {"ok": shlex.split(arg)}
        if kind == "expand":
            return {"ok": arg % {"program_name": "web", "here": "/etc", "process_num": 7, "numprocs": 12, "ENV_X": "x"}}
    except Exception as e:
        return {"err": type(e).__name__}

json.dump([run(c) for c in json.load(sys.stdin)], sys.stdout)
