// Package require is sftp-wire's own small stand-in for github.com/stretchr/testify/require: the
// checks of package assert that pkg/sftp's tests call, ending the test at the first failure.
package require

import (
	"time"

	"github.com/stretchr/testify/assert"
)

// TestingT is what the checks need from *testing.T.
type TestingT interface {
	Errorf(format string, args ...interface{})
	FailNow()
}

type helper interface{ Helper() }

func stop(t TestingT, held bool) {
	if h, ok := t.(helper); ok {
		h.Helper()
	}
	if !held {
		t.FailNow()
	}
}

func Equal(t TestingT, expected, actual interface{}, msgAndArgs ...interface{}) {
	stop(t, assert.Equal(t, expected, actual, msgAndArgs...))
}

func NotEqual(t TestingT, expected, actual interface{}, msgAndArgs ...interface{}) {
	stop(t, assert.NotEqual(t, expected, actual, msgAndArgs...))
}

func EqualValues(t TestingT, expected, actual interface{}, msgAndArgs ...interface{}) {
	stop(t, assert.EqualValues(t, expected, actual, msgAndArgs...))
}

func True(t TestingT, value bool, msgAndArgs ...interface{}) {
	stop(t, assert.True(t, value, msgAndArgs...))
}

func False(t TestingT, value bool, msgAndArgs ...interface{}) {
	stop(t, assert.False(t, value, msgAndArgs...))
}

func Nil(t TestingT, object interface{}, msgAndArgs ...interface{}) {
	stop(t, assert.Nil(t, object, msgAndArgs...))
}

func NotNil(t TestingT, object interface{}, msgAndArgs ...interface{}) {
	stop(t, assert.NotNil(t, object, msgAndArgs...))
}

func NoError(t TestingT, err error, msgAndArgs ...interface{}) {
	stop(t, assert.NoError(t, err, msgAndArgs...))
}

func Error(t TestingT, err error, msgAndArgs ...interface{}) {
	stop(t, assert.Error(t, err, msgAndArgs...))
}

func EqualError(t TestingT, err error, errString string, msgAndArgs ...interface{}) {
	stop(t, assert.EqualError(t, err, errString, msgAndArgs...))
}

func ErrorIs(t TestingT, err, target error, msgAndArgs ...interface{}) {
	stop(t, assert.ErrorIs(t, err, target, msgAndArgs...))
}

func Len(t TestingT, object interface{}, n int, msgAndArgs ...interface{}) {
	stop(t, assert.Len(t, object, n, msgAndArgs...))
}

func Empty(t TestingT, object interface{}, msgAndArgs ...interface{}) {
	stop(t, assert.Empty(t, object, msgAndArgs...))
}

func Eventually(t TestingT, condition func() bool, waitFor, tick time.Duration, msgAndArgs ...interface{}) {
	stop(t, assert.Eventually(t, condition, waitFor, tick, msgAndArgs...))
}
