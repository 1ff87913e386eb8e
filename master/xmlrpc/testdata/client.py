# The stdlib XML-RPC client against a server on a fake backend (see
# server_test.go): every method, its shape, faults and offset rules.
# usage: client.py unix PATH | client.py tcp URL
import http.client, re, socket, sys, time, xmlrpc.client

class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__('localhost')
        self.unix_path = path
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.unix_path)

class UnixTransport(xmlrpc.client.Transport):
    def __init__(self, path):
        super().__init__()
        self.unix_path = path
    def make_connection(self, host):
        if self._connection and host == self._connection[0]:
            return self._connection[1]
        self._connection = host, UnixConnection(self.unix_path)
        return self._connection[1]

def proxy(mode, where):
    if mode == 'unix':
        return xmlrpc.client.ServerProxy('http://localhost', transport=UnixTransport(where))
    return xmlrpc.client.ServerProxy(where)

def eq(got, want, what):
    if got != want:
        raise AssertionError('%s: got %r, want %r' % (what, got, want))

def fault(fn, code, text, *args):
    try:
        got = fn(*args)
    except xmlrpc.client.Fault as f:
        eq((f.faultCode, f.faultString), (code, text), 'fault of %s%r' % (fn, args))
        return
    raise AssertionError('%s%r: got %r, want fault %d' % (fn, args, got, code))

def byname(results):
    # Waited results come as the processes finish, as supervisor's.
    return sorted(results, key=lambda r: r['name'])

def wait_state(s, name, state):
    deadline = time.time() + 5
    while s.supervisor.getProcessInfo(name)['state'] != state:
        if time.time() > deadline:
            raise AssertionError('%s never reached %d' % (name, state))
        time.sleep(0.02)

def main(mode, where):
    s = proxy(mode, where)
    sup = s.supervisor

    eq(sup.getVersion(), '3.0', 'getVersion')
    eq(sup.getAPIVersion(), '3.0', 'getAPIVersion')
    if not re.match(r'\d+\.\d+', sup.getSupervisorVersion()):
        raise AssertionError('getSupervisorVersion %r' % sup.getSupervisorVersion())
    eq(sup.getIdentification(), 'supervisor', 'getIdentification')
    eq(sup.getState(), {'statecode': 1, 'statename': 'RUNNING'}, 'getState')
    eq(type(sup.getPID()), int, 'getPID')

    methods = s.system.listMethods()
    eq(methods, sorted(methods), 'listMethods sorted')
    for m in ('supervisor.getVersion', 'supervisor.readMainLog', 'supervisor.tailProcessLog',
              'supervisor.clearProcessLog', 'supervisor.readProcessLog', 'system.multicall',
              'supervisor.sendProcessStdin', 'supervisor.getAllConfigInfo'):
        if m not in methods:
            raise AssertionError('listMethods lacks ' + m)
    eq(s.system.methodSignature('supervisor.startProcess'), ['boolean', 'string', 'boolean'], 'methodSignature')
    if '@return' not in s.system.methodHelp('supervisor.getState'):
        raise AssertionError('methodHelp')
    fault(s.system.methodSignature, 4, 'SIGNATURE_UNSUPPORTED', 'nope.nope')
    fault(s.system.methodHelp, 4, 'SIGNATURE_UNSUPPORTED', 'nope.nope')

    # Unknown methods, supervisor's traverse() rules, and arity.
    fault(sup.nope, 1, 'UNKNOWN_METHOD')
    fault(getattr(sup, '_private'), 1, 'UNKNOWN_METHOD')
    fault(getattr(s, 'a.b.c'), 1, 'UNKNOWN_METHOD')
    fault(sup.getProcessInfo, 2, 'INCORRECT_PARAMETERS')
    fault(sup.getPID, 2, 'INCORRECT_PARAMETERS', 1)

    # Process info: order, every key, types, descriptions.
    infos = sup.getAllProcessInfo()
    eq([(i['group'], i['name']) for i in infos],
       [('bad', 'bad'), ('cat', 'cat'), ('crash', 'crash'), ('web', 'web_00'), ('web', 'web_01')], 'order')
    keys = {'name', 'group', 'start', 'stop', 'now', 'state', 'statename', 'spawnerr', 'exitstatus',
            'logfile', 'stdout_logfile', 'stderr_logfile', 'pid', 'description'}
    for i in infos:
        eq(set(i), keys, 'keys of ' + i['name'])
        for k in ('start', 'stop', 'now', 'state', 'exitstatus', 'pid'):
            eq(type(i[k]), int, k)
    by = {i['name']: i for i in infos}
    if not re.match(r'^pid 4242, uptime 1 day, 2:03:0\d$', by['cat']['description']):
        raise AssertionError('cat description %r' % by['cat']['description'])
    eq(by['cat']['description'].split(',')[1].split(' ')[1], 'uptime', "Cesi's parse")
    eq((by['cat']['state'], by['cat']['statename'], by['cat']['pid']), (20, 'RUNNING', 4242), 'cat')
    eq(by['cat']['logfile'], by['cat']['stdout_logfile'], 'logfile alias')
    eq((by['web_00']['description'], by['web_00']['start'], by['web_00']['stop']), ('Not started', 0, 0), 'web_00')
    eq((by['web_01']['state'], by['web_01']['statename'], by['web_01']['exitstatus']), (100, 'EXITED', -1), 'web_01')
    if not re.match(r'^[A-Z][a-z]{2} \d\d \d\d:\d\d [AP]M$', by['web_01']['description']):
        raise AssertionError('web_01 description %r' % by['web_01']['description'])
    eq((by['bad']['state'], by['bad']['description']), (200, "cannot find command 'nope'"), 'bad')
    eq(sup.getProcessInfo('cat')['pid'], 4242, 'getProcessInfo')
    eq(sup.getProcessInfo('web:web_00')['name'], 'web_00', 'getProcessInfo group:name')
    fault(sup.getProcessInfo, 10, 'BAD_NAME: nope', 'nope')
    fault(sup.getProcessInfo, 10, 'BAD_NAME: web', 'web')
    fault(sup.getProcessInfo, 10, 'BAD_NAME: web:nope', 'web:nope')

    # Logs: readFile's offset rules.
    read = sup.readProcessStdoutLog
    eq(read('cat', -4, 0), '6789', 'read -4 0')
    eq(read('cat', -100, 0), '0123456789', 'read -100 0')
    eq(read('cat', 2, 3), '234', 'read 2 3')
    eq(read('cat', 0, 0), '0123456789', 'read 0 0')
    eq(read('cat', 100, 0), '', 'read past the end')
    eq(sup.readProcessLog('cat', 8, 0), '89', 'readProcessLog alias')
    fault(read, 3, 'BAD_ARGUMENTS', 'cat', -4, 2)
    fault(read, 3, 'BAD_ARGUMENTS', 'cat', 0, -1)
    fault(read, 10, 'BAD_NAME: nope', 'nope', 0, 0)
    fault(sup.readProcessStderrLog, 20, 'NO_FILE: cat', 'cat', 0, 0)
    eq(sup.readLog(0, 0), 'main log line\n', 'readLog')
    eq(sup.readMainLog(-5, 0), 'line\n', 'readMainLog')
    fault(sup.readLog, 3, 'BAD_ARGUMENTS', -5, 1)
    # tailFile's rules, as supervisor's options.tailFile computes them.
    tail = sup.tailProcessStdoutLog
    eq(tail('cat', 0, 5), ['56789', 10, True], 'tail 0 5')
    eq(tail('cat', 0, 500), ['0123456789', 10, False], 'tail 0 500')
    eq(tail('cat', 8, 5), ['56789', 10, False], 'tail 8 5')
    eq(tail('cat', 10, 5), ['', 10, False], 'tail at the end')
    eq(tail('cat', 20, 5), ['', 10, False], 'tail past the end (rotated)')
    eq(sup.tailProcessLog('cat', 0, 3), ['789', 10, True], 'tailProcessLog alias')
    eq(sup.tailProcessStderrLog('cat', 0, 10), ['', 0, False], 'tail of no file')
    fault(tail, 10, 'BAD_NAME: nope', 'nope', 0, 5)

    # Stdin and signals, while cat runs.
    eq(sup.sendProcessStdin('cat', 'hello\n'), True, 'sendProcessStdin')
    fault(sup.sendProcessStdin, 70, 'NOT_RUNNING: web:web_00', 'web:web_00', 'x')
    fault(sup.sendProcessStdin, 10, 'BAD_NAME: nope', 'nope', 'x')
    eq(sup.signalProcess('cat', 'HUP'), True, 'signalProcess HUP')
    eq(sup.signalProcess('cat', 'sigusr1'), True, 'signalProcess sigusr1')
    eq(sup.signalProcess('cat', '15'), True, 'signalProcess 15')
    fault(sup.signalProcess, 11, 'BAD_SIGNAL: NOPE', 'cat', 'NOPE')
    fault(sup.signalProcess, 10, 'BAD_NAME: nope', 'nope', 'HUP')
    fault(sup.signalProcess, 70, 'NOT_RUNNING: web:web_00', 'web:web_00', 'HUP')
    eq(sup.signalProcessGroup('web', 'HUP'), [], 'signalProcessGroup of stopped ones')
    eq(sup.signalAllProcesses('HUP'), [{'name': 'cat', 'group': 'cat', 'status': 80, 'description': 'OK'}], 'signalAllProcesses')
    fault(sup.signalProcessGroup, 10, 'BAD_NAME: nope', 'nope', 'HUP')

    # Start and stop, with the answer held until RUNNING or stopped.
    fault(sup.startProcess, 60, 'ALREADY_STARTED: cat', 'cat')
    t0 = time.time()
    eq(sup.startProcess('web:web_00'), True, 'startProcess waits')
    if time.time() - t0 < 0.15:
        raise AssertionError('startProcess did not wait for RUNNING')
    eq(sup.getProcessInfo('web:web_00')['statename'], 'RUNNING', 'started')
    fault(sup.sendProcessStdin, 20, 'NO_FILE: web:web_00', 'web:web_00', 'x')
    fault(sup.startProcess, 40, 'ABNORMAL_TERMINATION: crash', 'crash')
    eq(sup.stopProcess('web:web_00', 0), True, 'stopProcess without wait (int 0)')
    eq(sup.getProcessInfo('web:web_00')['statename'], 'STOPPING', 'not waited')
    wait_state(s, 'web:web_00', 0)
    fault(sup.stopProcess, 70, 'NOT_RUNNING: web:web_00', 'web:web_00')
    ok = lambda n: {'name': n, 'group': 'web', 'status': 80, 'description': 'OK'}
    eq(byname(sup.startProcessGroup('web', 1)), [ok('web_00'), ok('web_01')], 'startProcessGroup')
    eq(sup.startProcessGroup('web'), [], 'startProcessGroup when all run')
    eq(byname(sup.stopProcess('web:*')), [ok('web_00'), ok('web_01')], 'stopProcess of group:*')
    eq(sup.startProcess('web:', False), [ok('web_00'), ok('web_01')], 'startProcess of group: without wait')
    fault(sup.startProcessGroup, 10, 'BAD_NAME: nope', 'nope')
    fault(sup.stopProcessGroup, 10, 'BAD_NAME: nope', 'nope')
    wait_state(s, 'web:web_01', 20)
    res = sup.stopAllProcesses()
    # BACKOFF is one of supervisor's RUNNING_STATES: crash is stopped too.
    eq(sorted(r['name'] for r in res), ['cat', 'crash', 'web_00', 'web_01'], 'stopAllProcesses acts on the running')
    eq([i['statename'] for i in sup.getAllProcessInfo()], ['FATAL', 'STOPPED', 'STOPPED', 'STOPPED', 'STOPPED'], 'after stopAll')
    res = sup.startAllProcesses(True)
    eq(sorted((r['name'], r['status']) for r in res), [('bad', 80), ('cat', 80), ('crash', 40), ('web_00', 80), ('web_01', 80)], 'startAllProcesses')

    # Logs cleared, one by one and all at once.
    eq(sup.clearProcessLogs('cat'), True, 'clearProcessLogs')
    eq(sup.clearProcessLog('cat'), True, 'clearProcessLog alias')
    fault(sup.clearProcessLogs, 30, 'FAILED: truncate: failed', 'bad')
    fault(sup.clearProcessLogs, 10, 'BAD_NAME: nope', 'nope')
    res = sup.clearAllProcessLogs()
    eq(len(res), 5, 'clearAllProcessLogs')
    eq([r for r in res if r['status'] != 80], [{'name': 'bad', 'group': 'bad', 'status': 30, 'description': 'FAILED: truncate: failed'}], 'clearAll failures')
    eq(sup.clearLog(), True, 'clearLog')

    # Config: avail, reread, add, remove.
    conf = sup.getAllConfigInfo()
    eq([c['name'] for c in conf], ['bad', 'cat', 'crash', 'spare', 'web_00', 'web_01'], 'getAllConfigInfo order')
    spare = [c for c in conf if c['name'] == 'spare'][0]
    eq((spare['inuse'], spare['directory'], spare['uid'], spare['group_prio']), (False, 'none', 'none', 999), 'spare')
    eq(sup.reloadConfig(), [[['spare'], ['web'], []]], 'reloadConfig')
    eq(sup.addProcessGroup('spare'), True, 'addProcessGroup')
    fault(sup.addProcessGroup, 90, 'ALREADY_ADDED: spare', 'spare')
    fault(sup.addProcessGroup, 10, 'BAD_NAME: zzz', 'zzz')
    fault(sup.removeProcessGroup, 91, 'STILL_RUNNING: cat', 'cat')
    eq(sup.removeProcessGroup('web'), True, 'removeProcessGroup')
    eq(sup.restart(), True, 'restart')

    # multicall as supervisor's: values unwrapped, faults as structs.
    eq(s.system.multicall([
        {'methodName': 'supervisor.getVersion', 'params': []},
        {'methodName': 'supervisor.getProcessInfo', 'params': ['nope']},
        {'methodName': 'system.multicall', 'params': [[]]},
        {'params': []},
    ]), ['3.0', {'faultCode': 10, 'faultString': 'BAD_NAME: nope'},
         {'faultCode': 2, 'faultString': 'INCORRECT_PARAMETERS: Recursive system.multicall forbidden'},
         {'faultCode': 2, 'faultString': 'INCORRECT_PARAMETERS: No methodName'}], 'multicall')

    # Bytes XML cannot carry come back replaced, the rest intact.
    eq(read('web:web_00', 0, 0), 'red\ufffd[0m\r\n\ufffdend \u00e9', 'control bytes replaced, \\r kept')

    eq(sup.shutdown(), True, 'shutdown')
    fault(sup.getState, 6, 'SHUTDOWN_STATE')
    fault(sup.getVersion, 6, 'SHUTDOWN_STATE')
    eq(type(s.system.listMethods()), list, 'system.* answer while shutting down')
    print('OK')

if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
