package xmlrpc

import (
	"context"
	"sort"
	"strings"
)

// method is one published method: its handler, its arity, and the
// signature and help that system.methodSignature and methodHelp give.
type method struct {
	fn       func(ctx context.Context, a *args) (any, error)
	min, max int      // number of parameters accepted
	sig      []string // return type, then parameter types
	help     string
}

// methods builds the published table: supervisor 4.2's supervisor.* and
// system.* namespaces, with their old aliases.
func (s *Server) methods() map[string]*method {
	m := map[string]*method{
		"supervisor.getAPIVersion":        {fn: s.apiVersion, sig: []string{"string"}, help: "Return the version of the RPC API used by supervisord"},
		"supervisor.getSupervisorVersion": {fn: func(context.Context, *args) (any, error) { return s.opt.Version, nil }, sig: []string{"string"}, help: "Return the version of the supervisor package in use by supervisord"},
		"supervisor.getIdentification":    {fn: func(context.Context, *args) (any, error) { return s.opt.Identification, nil }, sig: []string{"string"}, help: "Return identifying string of supervisord"},
		"supervisor.getState":             {fn: s.getState, sig: []string{"struct"}, help: "Return current state of supervisord as a struct"},
		"supervisor.getPID":               {fn: func(context.Context, *args) (any, error) { return s.b.PID(), nil }, sig: []string{"int"}, help: "Return the PID of supervisord"},
		"supervisor.readLog":              {fn: s.readLog, min: 2, max: 2, sig: []string{"string", "int", "int"}, help: "Read length bytes from the main log starting at offset"},
		"supervisor.clearLog":             {fn: s.clearLog, sig: []string{"boolean"}, help: "Clear the main log."},
		"supervisor.shutdown":             {fn: func(context.Context, *args) (any, error) { return true, s.b.Shutdown() }, sig: []string{"boolean"}, help: "Shut down the supervisor process"},
		"supervisor.restart":              {fn: func(context.Context, *args) (any, error) { return true, s.b.Restart() }, sig: []string{"boolean"}, help: "Restart the supervisor process"},
		"supervisor.reloadConfig":         {fn: s.reloadConfig, sig: []string{"array"}, help: "Reload the configuration: [[added, changed, removed]] group names."},
		"supervisor.addProcessGroup":      {fn: s.addGroup, min: 1, max: 1, sig: []string{"boolean", "string"}, help: "Update the config for a running process from config file."},
		"supervisor.removeProcessGroup":   {fn: s.removeGroup, min: 1, max: 1, sig: []string{"boolean", "string"}, help: "Remove a stopped process from the active configuration."},
		"supervisor.startProcess":         {fn: s.byName(s.startAction), min: 1, max: 2, sig: []string{"boolean", "string", "boolean"}, help: "Start a process"},
		"supervisor.startProcessGroup":    {fn: s.byGroup(s.startAction), min: 1, max: 2, sig: []string{"array", "string", "boolean"}, help: "Start all processes in the group named 'name'"},
		"supervisor.startAllProcesses":    {fn: s.onAll(s.startAction), max: 1, sig: []string{"array", "boolean"}, help: "Start all processes listed in the configuration file"},
		"supervisor.stopProcess":          {fn: s.byName(s.stopAction), min: 1, max: 2, sig: []string{"boolean", "string", "boolean"}, help: "Stop a process named by name"},
		"supervisor.stopProcessGroup":     {fn: s.byGroup(s.stopAction), min: 1, max: 2, sig: []string{"array", "string", "boolean"}, help: "Stop all processes in the process group named 'name'"},
		"supervisor.stopAllProcesses":     {fn: s.onAll(s.stopAction), max: 1, sig: []string{"array", "boolean"}, help: "Stop all processes in the process list"},
		"supervisor.signalProcess":        {fn: s.signalProcess, min: 2, max: 2, sig: []string{"boolean", "string", "string"}, help: "Send an arbitrary UNIX signal to the process named by name"},
		"supervisor.signalProcessGroup":   {fn: s.signalProcessGroup, min: 2, max: 2, sig: []string{"array", "string", "string"}, help: "Send a signal to all processes in the group named 'name'"},
		"supervisor.signalAllProcesses":   {fn: s.signalAllProcesses, min: 1, max: 1, sig: []string{"array", "string"}, help: "Send a signal to all processes in the process list"},
		"supervisor.getAllConfigInfo":     {fn: s.getAllConfigInfo, sig: []string{"array"}, help: "Get info about all available process configurations."},
		"supervisor.getProcessInfo":       {fn: s.getProcessInfo, min: 1, max: 1, sig: []string{"struct", "string"}, help: "Get info about a process named name"},
		"supervisor.getAllProcessInfo":    {fn: s.getAllProcessInfo, sig: []string{"array"}, help: "Get info about all processes"},
		"supervisor.readProcessStdoutLog": {fn: s.readProcessLog(LogStdout), min: 3, max: 3, sig: []string{"string", "string", "int", "int"}, help: "Read length bytes from name's stdout log starting at offset"},
		"supervisor.readProcessStderrLog": {fn: s.readProcessLog(LogStderr), min: 3, max: 3, sig: []string{"string", "string", "int", "int"}, help: "Read length bytes from name's stderr log starting at offset"},
		"supervisor.tailProcessStdoutLog": {fn: s.tailProcessLog(LogStdout), min: 3, max: 3, sig: []string{"array", "string", "int", "int"}, help: "Provides a more efficient way to tail the (stdout) log than readProcessStdoutLog(): [string bytes, int offset, bool overflow]"},
		"supervisor.tailProcessStderrLog": {fn: s.tailProcessLog(LogStderr), min: 3, max: 3, sig: []string{"array", "string", "int", "int"}, help: "Provides a more efficient way to tail the (stderr) log than readProcessStderrLog(): [string bytes, int offset, bool overflow]"},
		"supervisor.clearProcessLogs":     {fn: s.clearProcessLogs, min: 1, max: 1, sig: []string{"boolean", "string"}, help: "Clear the stdout and stderr logs for the named process and reopen them."},
		"supervisor.clearAllProcessLogs":  {fn: s.clearAllProcessLogs, sig: []string{"array"}, help: "Clear all process log files"},
		"supervisor.sendProcessStdin":     {fn: s.sendProcessStdin, min: 2, max: 2, sig: []string{"boolean", "string", "string"}, help: "Send a string of chars to the stdin of the process name."},
		"system.listMethods":              {fn: s.listMethods, sig: []string{"array"}, help: "Return an array listing the available method names"},
		"system.methodHelp":               {fn: s.methodHelp, min: 1, max: 1, sig: []string{"string", "string"}, help: "Return a string showing the method's documentation"},
		"system.methodSignature":          {fn: s.methodSignature, min: 1, max: 1, sig: []string{"array", "string"}, help: "Return an array describing the method signature in the form [rtype, ptype, ptype...]"},
		"system.multicall":                {fn: s.multicall, min: 1, max: 1, sig: []string{"array", "array"}, help: "Process an array of calls, and return an array of results."},
	}
	// The aliases supervisor keeps for clients older than 3.0 and 2.1.
	for alias, of := range map[string]string{
		"supervisor.getVersion":      "supervisor.getAPIVersion",
		"supervisor.readMainLog":     "supervisor.readLog",
		"supervisor.readProcessLog":  "supervisor.readProcessStdoutLog",
		"supervisor.tailProcessLog":  "supervisor.tailProcessStdoutLog",
		"supervisor.clearProcessLog": "supervisor.clearProcessLogs",
	} {
		m[alias] = m[of]
	}
	for _, x := range m {
		if !strings.Contains(x.help, "@return") {
			x.help = docOf(x)
		}
	}
	return m
}

// docOf adds supervisor's @param/@return tags to a help text, which is
// what system.methodSignature reads in supervisor.
func docOf(x *method) string {
	var b strings.Builder
	b.WriteString(" " + x.help + "\n\n")
	for i, t := range x.sig[1:] {
		b.WriteString("        @param " + t + " arg" + string(rune('1'+i)) + "\n")
	}
	b.WriteString("        @return " + x.sig[0] + " result\n        ")
	return b.String()
}

// call runs one method: supervisor's traverse() (two dotted parts, none
// starting with "_", else UNKNOWN_METHOD), the check of the parameters'
// number and types against the signature (INCORRECT_PARAMETERS, which is
// what a Python TypeError there gives), and the mood gate of every
// supervisor.* method (SHUTDOWN_STATE once the master is going down).
func (s *Server) call(ctx context.Context, name string, params []any) (any, error) {
	parts := strings.Split(name, ".")
	if len(parts) != 2 || strings.HasPrefix(parts[1], "_") {
		return nil, fault(UnknownMethod)
	}
	m, ok := s.table()[name]
	if !ok {
		return nil, fault(UnknownMethod)
	}
	if len(params) < m.min || len(params) > m.max || !fits(m.sig[1:], params) {
		return nil, fault(IncorrectParameters)
	}
	if parts[0] == "supervisor" && s.b.State() < StateServing {
		return nil, fault(ShutdownState)
	}
	a := &args{p: params}
	v, err := m.fn(ctx, a)
	if err != nil {
		return nil, err
	}
	return v, nil
}

func (s *Server) table() map[string]*method {
	s.tableOnce.Do(func() { s.tab = s.methods() })
	return s.tab
}

func (s *Server) apiVersion(context.Context, *args) (any, error) { return "3.0", nil }

func (s *Server) getState(context.Context, *args) (any, error) {
	st := s.b.State()
	return Struct{{"statecode", int(st)}, {"statename", st.String()}}, nil
}

func (s *Server) listMethods(context.Context, *args) (any, error) {
	names := make([]string, 0, len(s.table()))
	for n := range s.table() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

func (s *Server) methodHelp(_ context.Context, a *args) (any, error) {
	if m, ok := s.table()[a.str(0)]; ok {
		return m.help, nil
	}
	return nil, fault(SignatureUnsupported)
}

func (s *Server) methodSignature(_ context.Context, a *args) (any, error) {
	if m, ok := s.table()[a.str(0)]; ok {
		return m.sig, nil
	}
	return nil, fault(SignatureUnsupported)
}

// multicall runs calls one after the other, as supervisor's does: each
// result is the value itself (supervisor does not wrap it in a one-item
// array, whatever its docstring says) or a fault struct; a nested
// system.multicall is refused.
func (s *Server) multicall(ctx context.Context, a *args) (any, error) {
	calls := a.list(0)
	out := make([]any, 0, len(calls))
	for _, c := range calls {
		out = append(out, s.oneOfMany(ctx, c))
	}
	return out, nil
}

func (s *Server) oneOfMany(ctx context.Context, c any) any {
	call, _ := c.(map[string]any)
	name, ok := call["methodName"].(string)
	if !ok {
		return fault(IncorrectParameters, "No methodName").Struct()
	}
	if name == "system.multicall" {
		return fault(IncorrectParameters, "Recursive system.multicall forbidden").Struct()
	}
	params, _ := call["params"].([]any)
	v, err := s.call(ctx, name, params)
	if err != nil {
		return faultOf(err, "").Struct()
	}
	return v
}
