// Package assert is sftp-wire's own small stand-in for the assertion helpers that pkg/sftp's tests
// import (github.com/stretchr/testify/assert): only the functions those tests call, with the same
// meaning, so that Debian's golang-github-pkg-sftp-dev test suite builds with no other package.
// Each function reports a failure through t.Errorf and returns whether the check held.
package assert

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// TestingT is what the checks need from *testing.T.
type TestingT interface {
	Errorf(format string, args ...interface{})
}

type helper interface{ Helper() }

func fail(t TestingT, what string, msgAndArgs []interface{}) bool {
	if h, ok := t.(helper); ok {
		h.Helper()
	}
	if m := message(msgAndArgs); m != "" {
		what += "\n\tmessage: " + m
	}
	t.Errorf("%s", what)
	return false
}

func message(msgAndArgs []interface{}) string {
	if len(msgAndArgs) == 0 {
		return ""
	}
	if f, ok := msgAndArgs[0].(string); ok && len(msgAndArgs) > 1 {
		return fmt.Sprintf(f, msgAndArgs[1:]...)
	}
	return fmt.Sprint(msgAndArgs...)
}

// ObjectsAreEqual: byte slices by content, anything else by reflect.DeepEqual.
func ObjectsAreEqual(expected, actual interface{}) bool {
	if expected == nil || actual == nil {
		return expected == actual
	}
	e, eok := expected.([]byte)
	a, aok := actual.([]byte)
	if eok && aok {
		if e == nil || a == nil {
			return e == nil && a == nil
		}
		return bytes.Equal(e, a)
	}
	return reflect.DeepEqual(expected, actual)
}

// ObjectsAreEqualValues: equal, or equal once actual is converted to expected's type.
func ObjectsAreEqualValues(expected, actual interface{}) bool {
	if ObjectsAreEqual(expected, actual) {
		return true
	}
	if expected == nil || actual == nil {
		return false
	}
	et := reflect.TypeOf(expected)
	av := reflect.ValueOf(actual)
	if !av.Type().ConvertibleTo(et) {
		return false
	}
	return reflect.DeepEqual(expected, av.Convert(et).Interface())
}

func isNil(v interface{}) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Chan, reflect.Func, reflect.Interface, reflect.Map, reflect.Ptr, reflect.Slice, reflect.UnsafePointer:
		return rv.IsNil()
	}
	return false
}

func Equal(t TestingT, expected, actual interface{}, msgAndArgs ...interface{}) bool {
	if ObjectsAreEqual(expected, actual) {
		return true
	}
	return fail(t, fmt.Sprintf("not equal:\n\texpected: %#v\n\tactual  : %#v", expected, actual), msgAndArgs)
}

func NotEqual(t TestingT, expected, actual interface{}, msgAndArgs ...interface{}) bool {
	if !ObjectsAreEqual(expected, actual) {
		return true
	}
	return fail(t, fmt.Sprintf("should not be: %#v", actual), msgAndArgs)
}

func EqualValues(t TestingT, expected, actual interface{}, msgAndArgs ...interface{}) bool {
	if ObjectsAreEqualValues(expected, actual) {
		return true
	}
	return fail(t, fmt.Sprintf("not equal:\n\texpected: %#v (%T)\n\tactual  : %#v (%T)", expected, expected, actual, actual), msgAndArgs)
}

// Exactly: same type and equal.
func Exactly(t TestingT, expected, actual interface{}, msgAndArgs ...interface{}) bool {
	if reflect.TypeOf(expected) != reflect.TypeOf(actual) {
		return fail(t, fmt.Sprintf("types differ: expected %T, actual %T", expected, actual), msgAndArgs)
	}
	return Equal(t, expected, actual, msgAndArgs...)
}

func IsType(t TestingT, expectedType, object interface{}, msgAndArgs ...interface{}) bool {
	if reflect.TypeOf(object) == reflect.TypeOf(expectedType) {
		return true
	}
	return fail(t, fmt.Sprintf("object of type %T, expected %T", object, expectedType), msgAndArgs)
}

func True(t TestingT, value bool, msgAndArgs ...interface{}) bool {
	if value {
		return true
	}
	return fail(t, "should be true", msgAndArgs)
}

func False(t TestingT, value bool, msgAndArgs ...interface{}) bool {
	if !value {
		return true
	}
	return fail(t, "should be false", msgAndArgs)
}

func Nil(t TestingT, object interface{}, msgAndArgs ...interface{}) bool {
	if isNil(object) {
		return true
	}
	return fail(t, fmt.Sprintf("expected nil, got: %#v", object), msgAndArgs)
}

func NotNil(t TestingT, object interface{}, msgAndArgs ...interface{}) bool {
	if !isNil(object) {
		return true
	}
	return fail(t, "expected a value, got nil", msgAndArgs)
}

func NoError(t TestingT, err error, msgAndArgs ...interface{}) bool {
	if err == nil {
		return true
	}
	return fail(t, fmt.Sprintf("unexpected error: %#v (%v)", err, err), msgAndArgs)
}

func Error(t TestingT, err error, msgAndArgs ...interface{}) bool {
	if err != nil {
		return true
	}
	return fail(t, "an error was expected, got none", msgAndArgs)
}

func EqualError(t TestingT, err error, errString string, msgAndArgs ...interface{}) bool {
	if err == nil {
		return fail(t, fmt.Sprintf("an error %q was expected, got none", errString), msgAndArgs)
	}
	if err.Error() != errString {
		return fail(t, fmt.Sprintf("error message differs:\n\texpected: %q\n\tactual  : %q", errString, err.Error()), msgAndArgs)
	}
	return true
}

func ErrorIs(t TestingT, err, target error, msgAndArgs ...interface{}) bool {
	if errors.Is(err, target) {
		return true
	}
	return fail(t, fmt.Sprintf("error %v is not %v", err, target), msgAndArgs)
}

// length of a string, slice, array, map or channel; ok false for anything else.
func length(x interface{}) (n int, ok bool) {
	if x == nil {
		return 0, false
	}
	v := reflect.ValueOf(x)
	switch v.Kind() {
	case reflect.String, reflect.Slice, reflect.Array, reflect.Map, reflect.Chan:
		return v.Len(), true
	}
	return 0, false
}

func Len(t TestingT, object interface{}, n int, msgAndArgs ...interface{}) bool {
	l, ok := length(object)
	if !ok {
		return fail(t, fmt.Sprintf("%#v has no length", object), msgAndArgs)
	}
	if l != n {
		return fail(t, fmt.Sprintf("%#v should have %d item(s), has %d", object, n, l), msgAndArgs)
	}
	return true
}

// Empty: nil, a zero value, a length of 0, or a pointer to an empty value.
func isEmpty(object interface{}) bool {
	if object == nil {
		return true
	}
	v := reflect.ValueOf(object)
	switch v.Kind() {
	case reflect.String, reflect.Slice, reflect.Array, reflect.Map, reflect.Chan:
		return v.Len() == 0
	case reflect.Ptr:
		if v.IsNil() {
			return true
		}
		return isEmpty(v.Elem().Interface())
	}
	return reflect.DeepEqual(object, reflect.Zero(v.Type()).Interface())
}

func Empty(t TestingT, object interface{}, msgAndArgs ...interface{}) bool {
	if isEmpty(object) {
		return true
	}
	return fail(t, fmt.Sprintf("should be empty, is %#v", object), msgAndArgs)
}

// contains: substring of a string, element of a slice or array, key of a map.
func contains(list, element interface{}) (found, ok bool) {
	v := reflect.ValueOf(list)
	switch v.Kind() {
	case reflect.String:
		s, isStr := element.(string)
		if !isStr {
			return false, false
		}
		return strings.Contains(v.String(), s), true
	case reflect.Map:
		for _, k := range v.MapKeys() {
			if ObjectsAreEqual(k.Interface(), element) {
				return true, true
			}
		}
		return false, true
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if ObjectsAreEqual(v.Index(i).Interface(), element) {
				return true, true
			}
		}
		return false, true
	}
	return false, false
}

func NotContains(t TestingT, s, element interface{}, msgAndArgs ...interface{}) bool {
	found, ok := contains(s, element)
	if !ok {
		return fail(t, fmt.Sprintf("%#v cannot hold elements", s), msgAndArgs)
	}
	if found {
		return fail(t, fmt.Sprintf("%#v should not contain %#v", s, element), msgAndArgs)
	}
	return true
}

// Eventually: condition becomes true, checked every tick, within waitFor.
func Eventually(t TestingT, condition func() bool, waitFor, tick time.Duration, msgAndArgs ...interface{}) bool {
	deadline := time.Now().Add(waitFor)
	for time.Now().Before(deadline) {
		if condition() {
			return true
		}
		time.Sleep(tick)
	}
	return fail(t, "condition never satisfied", msgAndArgs)
}
