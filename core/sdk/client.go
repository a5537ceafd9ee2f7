package sdk

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/nexolab/lab/core/proto/labv1"
)

// ErrPluginGone means the plugin process exited or stopped answering mid-call.
var ErrPluginGone = errors.New("plugin exited or stopped responding")

// Client is the host's side of a launched plugin.
type Client struct {
	rpc labv1.StackClient
}

// Info asks the plugin who it is.
func (c *Client) Info(ctx context.Context) (Info, error) {
	in, err := c.rpc.Info(ctx, &labv1.Empty{})
	if err != nil {
		return Info{}, fromStatus(err)
	}
	return infoFromProto(in), nil
}

// Schema asks the plugin for the attributes its stack block accepts.
func (c *Client) Schema(ctx context.Context) ([]Attribute, error) {
	in, err := c.rpc.Schema(ctx, &labv1.Empty{})
	if err != nil {
		return nil, fromStatus(err)
	}
	return schemaFromProto(in)
}

// Validate asks the plugin to check a decoded config; a plugin built before Validate
// existed has no rules beyond its schema, so Unimplemented means no diagnostics.
func (c *Client) Validate(ctx context.Context, req *Request) (Diagnostics, error) {
	in, err := c.rpc.Validate(ctx, requestToProto(req))
	if status.Code(err) == codes.Unimplemented {
		return nil, nil
	}
	if err != nil {
		return nil, fromStatus(err)
	}
	return diagnosticsFromProto(in), nil
}

// Render returns the values Install would apply.
func (c *Client) Render(ctx context.Context, req *Request) ([]RenderedChart, error) {
	in, err := c.rpc.Render(ctx, requestToProto(req))
	if err != nil {
		return nil, fromStatus(err)
	}
	return renderFromProto(in), nil
}

// Health runs the stack's checks.
func (c *Client) Health(ctx context.Context, req *Request) (*Health, error) {
	in, err := c.rpc.Health(ctx, requestToProto(req))
	if err != nil {
		return nil, fromStatus(err)
	}
	return healthFromProto(in), nil
}

// Install converges the stack; events go to req.OnEvent.
func (c *Client) Install(ctx context.Context, req *Request) (*Result, error) {
	s, err := c.rpc.Install(ctx, requestToProto(req))
	return receive(s, err, req)
}

// Backup writes the stack's data into req.Dir.
func (c *Client) Backup(ctx context.Context, req *Request) (*Result, error) {
	s, err := c.rpc.Backup(ctx, requestToProto(req))
	return receive(s, err, req)
}

// Restore reads the stack's data back from req.Dir.
func (c *Client) Restore(ctx context.Context, req *Request) (*Result, error) {
	s, err := c.rpc.Restore(ctx, requestToProto(req))
	return receive(s, err, req)
}

// Uninstall removes the stack.
func (c *Client) Uninstall(ctx context.Context, req *Request) (*Result, error) {
	s, err := c.rpc.Uninstall(ctx, requestToProto(req))
	return receive(s, err, req)
}

type updateReceiver interface {
	Recv() (*labv1.Update, error)
}

func receive(s updateReceiver, err error, req *Request) (*Result, error) {
	if err != nil {
		return nil, fromStatus(err)
	}
	for {
		u, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: the call ended without a result", ErrPluginGone)
		}
		if err != nil {
			return nil, fromStatus(err)
		}
		switch k := u.Kind.(type) {
		case *labv1.Update_Event:
			if req.OnEvent != nil {
				req.OnEvent(eventFromProto(k.Event))
			}
		case *labv1.Update_Result:
			return resultFromProto(k.Result), nil
		}
	}
}

// fromStatus turns a gRPC error into one a user can read.
func fromStatus(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	switch st.Code() {
	case codes.Unimplemented:
		return ErrNotSupported
	case codes.Unavailable:
		return fmt.Errorf("%w (%s)", ErrPluginGone, st.Message())
	case codes.DeadlineExceeded:
		return fmt.Errorf("%w: %s", context.DeadlineExceeded, st.Message())
	case codes.Canceled:
		return fmt.Errorf("%w: %s", context.Canceled, st.Message())
	}
	return errors.New(st.Message())
}
