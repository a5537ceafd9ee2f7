package sdk

import (
	"context"
	"errors"
	"sync"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/nexolab/lab/core/proto/labv1"
)

// server adapts a Stack to the gRPC service inside the plugin process.
type server struct {
	labv1.UnimplementedStackServer
	impl Stack
	log  hclog.Logger
}

func (s *server) Info(context.Context, *labv1.Empty) (*labv1.InfoResponse, error) {
	return infoToProto(s.impl.Info()), nil
}

func (s *server) Schema(context.Context, *labv1.Empty) (*labv1.SchemaResponse, error) {
	attrs, err := SchemaOf(s.impl.Config())
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return schemaToProto(attrs)
}

func (s *server) Validate(ctx context.Context, in *labv1.Request) (*labv1.ValidateResponse, error) {
	req := requestFromProto(in)
	req.Config = s.impl.Config()
	if err := DecodeConfig(in.ConfigJson, req.Config); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	req.Log = s.log.Named(in.Stack)
	return diagnosticsToProto(validate(ctx, s.impl, req)), nil
}

func (s *server) Render(ctx context.Context, in *labv1.Request) (*labv1.RenderResponse, error) {
	req, err := s.request(ctx, in, nil)
	if err != nil {
		return nil, err
	}
	charts, err := s.impl.Render(ctx, req)
	if err != nil {
		return nil, toStatus(err)
	}
	return renderToProto(charts), nil
}

func (s *server) Health(ctx context.Context, in *labv1.Request) (*labv1.HealthResponse, error) {
	req, err := s.request(ctx, in, nil)
	if err != nil {
		return nil, err
	}
	h, err := s.impl.Health(ctx, req)
	if err != nil {
		return nil, toStatus(err)
	}
	return healthToProto(h), nil
}

func (s *server) Install(in *labv1.Request, out labv1.Stack_InstallServer) error {
	return s.stream(in, out, s.impl.Install)
}

func (s *server) Backup(in *labv1.Request, out labv1.Stack_BackupServer) error {
	return s.stream(in, out, s.impl.Backup)
}

func (s *server) Restore(in *labv1.Request, out labv1.Stack_RestoreServer) error {
	return s.stream(in, out, s.impl.Restore)
}

func (s *server) Uninstall(in *labv1.Request, out labv1.Stack_UninstallServer) error {
	return s.stream(in, out, s.impl.Uninstall)
}

type updateStream interface {
	Send(*labv1.Update) error
	Context() context.Context
}

type work func(context.Context, *Request) (*Result, error)

// stream runs a work method, sending its events and then its result.
func (s *server) stream(in *labv1.Request, out updateStream, run work) error {
	var mu sync.Mutex
	send := func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		_ = out.Send(&labv1.Update{Kind: &labv1.Update_Event{Event: eventToProto(e)}})
	}
	req, err := s.request(out.Context(), in, send)
	if err != nil {
		return err
	}
	res, err := run(out.Context(), req)
	if err != nil {
		return toStatus(err)
	}
	if res == nil {
		res = &Result{}
	}
	mu.Lock()
	defer mu.Unlock()
	return out.Send(&labv1.Update{Kind: &labv1.Update_Result{Result: resultToProto(res)}})
}

// request decodes a work method's request and refuses a config the stack's Validate
// rejects, so no work ever starts on it, whichever host sent it.
func (s *server) request(ctx context.Context, in *labv1.Request, onEvent func(Event)) (*Request, error) {
	req := requestFromProto(in)
	req.Config = s.impl.Config()
	if err := DecodeConfig(in.ConfigJson, req.Config); err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	req.Log = s.log.Named(in.Stack)
	req.OnEvent = onEvent
	if err := validate(ctx, s.impl, req).Err(); err != nil {
		return nil, status.Error(codes.InvalidArgument, "invalid config: "+err.Error())
	}
	return req, nil
}

func toStatus(err error) error {
	switch {
	case errors.Is(err, ErrNotSupported):
		return status.Error(codes.Unimplemented, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	}
	return status.Error(codes.Unknown, err.Error())
}
