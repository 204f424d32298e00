package server

import (
	"context"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/gantryhq/gantry/client/scheme"
	apiv1 "github.com/gantryhq/gantry/proto/gantry/api/v1"
)

// Metrics counts and times every request by verb, resource and code.
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	watchers *prometheus.GaugeVec
}

// NewMetrics registers the apiserver's request metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "apiserver_request_total",
			Help: "Requests served, by verb, resource and gRPC code.",
		}, []string{"verb", "resource", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "apiserver_request_duration_seconds",
			Help:    "Request latency by verb and resource (watches: until the stream ends).",
			Buckets: []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60},
		}, []string{"verb", "resource"}),
		watchers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "apiserver_registered_watchers",
			Help: "Open watch streams by resource.",
		}, []string{"resource"}),
	}
	reg.MustRegister(m.requests, m.latency, m.watchers)
	return m
}

type resourceRequest interface{ GetResource() string }

type objectRequest interface{ GetObject() *anypb.Any }

// verbOf turns "/gantry.api.v1.ResourceService/UpdateStatus" into
// "updatestatus".
func verbOf(fullMethod string) string {
	return strings.ToLower(fullMethod[strings.LastIndexByte(fullMethod, '/')+1:])
}

// resourceOf names the resource a request is about: its resource field, or
// the kind of the object it carries.
func resourceOf(req any) string {
	switch r := req.(type) {
	case resourceRequest:
		return r.GetResource()
	case objectRequest:
		name := r.GetObject().GetTypeUrl()
		name = name[strings.LastIndexByte(name, '/')+1:]
		if res, ok := scheme.ForMessageName(protoreflect.FullName(name)); ok {
			return res.Name
		}
	case *apiv1.BindRequest:
		return "pods"
	}
	return ""
}

// UnaryInterceptor records unary requests.
func (m *Metrics) UnaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := handler(ctx, req)
	verb, res := verbOf(info.FullMethod), resourceOf(req)
	m.requests.WithLabelValues(verb, res, status.Code(err).String()).Inc()
	m.latency.WithLabelValues(verb, res).Observe(time.Since(start).Seconds())
	return resp, err
}

// StreamInterceptor records streams (watches).
func (m *Metrics) StreamInterceptor(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	start := time.Now()
	rs := &recvStream{ServerStream: ss, m: m}
	err := handler(srv, rs)
	verb := verbOf(info.FullMethod)
	m.requests.WithLabelValues(verb, rs.resource, status.Code(err).String()).Inc()
	m.latency.WithLabelValues(verb, rs.resource).Observe(time.Since(start).Seconds())
	if rs.resource != "" {
		m.watchers.WithLabelValues(rs.resource).Dec()
	}
	return err
}

// recvStream notes the resource of a stream's first request and counts the
// stream as an open watcher while it lasts.
type recvStream struct {
	grpc.ServerStream
	resource string
	m        *Metrics
}

func (s *recvStream) RecvMsg(msg any) error {
	err := s.ServerStream.RecvMsg(msg)
	if err == nil && s.resource == "" {
		if res := resourceOf(msg); res != "" {
			s.resource = res
			s.m.watchers.WithLabelValues(res).Inc()
		}
	}
	return err
}
