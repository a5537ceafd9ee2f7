package sdk

import (
	"context"
	"errors"
)

// ErrNotSupported is returned by a method a stack does not offer.
var ErrNotSupported = errors.New("not supported by this stack")

// Unimplemented gives a Stack the optional methods: Render returns nothing,
// Backup and Restore return ErrNotSupported.
type Unimplemented struct{}

func (Unimplemented) Render(context.Context, *Request) ([]RenderedChart, error) { return nil, nil }

func (Unimplemented) Backup(context.Context, *Request) (*Result, error) {
	return nil, ErrNotSupported
}

func (Unimplemented) Restore(context.Context, *Request) (*Result, error) {
	return nil, ErrNotSupported
}
