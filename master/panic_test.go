package master

import "testing"

// A panic in a master goroutine calls OnPanic before it propagates.
func TestGoSafeCallsOnPanic(t *testing.T) {
	called := make(chan struct{})
	s := &Supervisor{opts: Options{OnPanic: func() { close(called) }}}
	recovered := make(chan any, 1)
	// Run the guarded function inline through the same wrapper logic: a
	// panic escaping a goroutine would end the test binary.
	func() {
		defer func() { recovered <- recover() }()
		s.guard(func() { panic("boom") })
	}()
	select {
	case <-called:
	default:
		t.Fatal("OnPanic not called")
	}
	if r := <-recovered; r != "boom" {
		t.Fatalf("panic value %v was not passed on", r)
	}
}
