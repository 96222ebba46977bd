package horde

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
)

// genResponse is what every generated …Response type provides.
type genResponse interface {
	StatusCode() int
	GetBody() []byte
}

// responseError returns the *APIError of a generated response that is not 2xx, or nil.
func responseError(r genResponse) error {
	if code := r.StatusCode(); code/100 == 2 {
		return nil
	}
	return APIErrorFromResponse(httpResponseOf(r), r.GetBody())
}

// httpResponseOf finds the HTTPResponse field every generated response struct has. It is used
// on the error path only.
func httpResponseOf(r genResponse) *http.Response {
	v := reflect.ValueOf(r)
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return nil
	}
	f := v.FieldByName("HTTPResponse")
	if !f.IsValid() {
		return nil
	}
	hr, _ := f.Interface().(*http.Response)
	return hr
}

// decoded returns the typed body that get picks out of a generated response, an *APIError for
// a non-2xx answer, or the transport error. A 2xx answer without the expected body is an error
// too: the caller would otherwise dereference nil.
func decoded[R genResponse, T any](r R, err error, get func(R) *T) (*T, error) {
	if err != nil {
		return nil, decodeError[R](err)
	}
	if err := responseError(r); err != nil {
		return nil, err
	}
	v := get(r)
	if v == nil {
		hr := httpResponseOf(r)
		where := ""
		if hr != nil && hr.Request != nil {
			where = hr.Request.Method + " " + hr.Request.URL.EscapedPath() + ": "
		}
		return nil, fmt.Errorf("horde: %sthe %d answer has no body of the documented type (%.80q)", where, r.StatusCode(), r.GetBody())
	}
	return v, nil
}

// noBody checks a generated response whose body the caller does not need.
func noBody[R genResponse](r R, err error) error {
	if err != nil {
		return decodeError[R](err)
	}
	return responseError(r)
}

// decodeError names the operation of a response that the generated parser could not decode.
// Transport errors come from the client's doer, which already names the operation.
func decodeError[R genResponse](err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	if !errors.As(err, &syntax) && !errors.As(err, &typ) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return err
	}
	t := reflect.TypeFor[R]()
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return fmt.Errorf("horde: decoding the answer of %s: %w", strings.TrimSuffix(t.Name(), "Response"), err)
}
