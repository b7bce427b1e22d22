// Command go-client is a client of the node API built on grpc-go and Go's crypto/tls (Debian's packages), the stack
// talosctl is built on, sharing no code with the project. It reads a plan (JSON) on stdin and prints one JSON result
// per step on stdout, in the same shape as grpc-core-client.py does. The messages are dynamic: their descriptors come from
// a descriptor set that protoc made from the project's .proto files (the plan's "descriptors").
//
// The client's key is loaded by tls.LoadX509KeyPair as talosctl loads it, Talos's "ED25519 PRIVATE KEY" label
// included; a repeated metadata key is appended value by value, as talosctl appends its nodes.
package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

type step struct {
	Name     string          `json:"name"`
	Path     string          `json:"path"`
	Request  json.RawMessage `json:"request"`
	Metadata [][2]string     `json:"metadata"`
	Timeout  float64         `json:"timeout"`
	Stream   bool            `json:"stream"`
	Fill     *struct {
		Field string `json:"field"`
		Bytes int    `json:"bytes"`
		File  string `json:"file"`
	} `json:"fill"`
	UntilHostnames []string `json:"until_hostnames"`
	MaxMessages    int      `json:"max_messages"`
	// Count: keep no messages of the stream; count them, their `bytes` fields' length, and hash those per node
	Count bool `json:"count"`
	// Parallel: make a unary call this many times at once on the one connection; the answers are counted, the first
	// kept, and the first failure reported
	Parallel int `json:"parallel"`
}

type plan struct {
	Endpoint    string `json:"endpoint"`
	Descriptors string `json:"descriptors"`
	TLS         struct {
		CA       string `json:"ca"`
		Crt      string `json:"crt"`
		Key      string `json:"key"`
		Insecure bool   `json:"insecure"`
	} `json:"tls"`
	Steps []step `json:"steps"`
}

type result struct {
	Name      string            `json:"name"`
	OK        bool              `json:"ok"`
	Code      string            `json:"code,omitempty"`
	Details   string            `json:"details,omitempty"`
	Cancelled bool              `json:"cancelled,omitempty"`
	Messages  []json.RawMessage `json:"messages"`
	Count     int               `json:"count,omitempty"`
	Bytes     int               `json:"bytes,omitempty"`
	SHA256    map[string]string `json:"sha256,omitempty"`
}

// codec marshals the dynamic messages with the APIv2 runtime.
type codec struct{}

func (codec) Marshal(v interface{}) ([]byte, error) { return proto.Marshal(v.(proto.Message)) }
func (codec) Unmarshal(data []byte, v interface{}) error {
	return proto.Unmarshal(data, v.(proto.Message))
}
func (codec) Name() string { return "proto" }

// the canonical names of the status codes, as the other client prints them
var codeNames = []string{"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"}

func loadFiles(path string) (*protoregistry.Files, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(raw, &set); err != nil {
		return nil, err
	}
	return protodesc.NewFiles(&set)
}

func methodOf(files *protoregistry.Files, path string) (protoreflect.MethodDescriptor, error) {
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(parts) != 2 {
		return nil, fmt.Errorf("%s: not a method path", path)
	}
	d, err := files.FindDescriptorByName(protoreflect.FullName(parts[0]))
	if err != nil {
		return nil, err
	}
	svc, ok := d.(protoreflect.ServiceDescriptor)
	if !ok {
		return nil, fmt.Errorf("%s: not a service", parts[0])
	}
	m := svc.Methods().ByName(protoreflect.Name(parts[1]))
	if m == nil {
		return nil, fmt.Errorf("%s: no such method", path)
	}
	return m, nil
}

func hostnameOf(msg protoreflect.Message) string {
	f := msg.Descriptor().Fields().ByName("metadata")
	if f == nil || f.Message() == nil || !msg.Has(f) {
		return ""
	}
	md := msg.Get(f).Message()
	h := md.Descriptor().Fields().ByName("hostname")
	if h == nil {
		return ""
	}
	return md.Get(h).String()
}

func run(conn *grpc.ClientConn, files *protoregistry.Files, s step) result {
	out := result{Name: s.Name, Messages: []json.RawMessage{}}
	fail := func(err error) result {
		st, _ := status.FromError(err)
		out.OK = false
		if int(st.Code()) < len(codeNames) {
			out.Code = codeNames[st.Code()]
		}
		out.Details = st.Message()
		return out
	}
	m, err := methodOf(files, s.Path)
	if err != nil {
		return fail(err)
	}
	req := dynamicpb.NewMessage(m.Input())
	if len(s.Request) > 0 {
		if err := (protojson.UnmarshalOptions{}).Unmarshal(s.Request, req); err != nil {
			return fail(err)
		}
	}
	if s.Fill != nil {
		data := []byte(strings.Repeat("#", s.Fill.Bytes))
		if s.Fill.File != "" {
			if data, err = os.ReadFile(s.Fill.File); err != nil {
				return fail(err)
			}
		}
		req.Set(m.Input().Fields().ByName(protoreflect.Name(s.Fill.Field)), protoreflect.ValueOfBytes(data))
	}
	md := metadata.MD{}
	for _, p := range s.Metadata {
		md.Append(p[0], p[1])
	}
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 10
	}
	ctx, cancel := context.WithTimeout(metadata.NewOutgoingContext(context.Background(), md), time.Duration(timeout*float64(time.Second)))
	defer cancel()
	marshal := protojson.MarshalOptions{UseProtoNames: true}
	keep := func(msg proto.Message) {
		b, _ := marshal.Marshal(msg)
		out.Messages = append(out.Messages, b)
	}
	if !s.Stream && s.Parallel > 0 {
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			first error
			kept  proto.Message
		)
		for i := 0; i < s.Parallel; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp := dynamicpb.NewMessage(m.Output())
				err := conn.Invoke(ctx, s.Path, req, resp)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err != nil && first == nil:
					first = err
				case err == nil:
					out.Count++
					if kept == nil {
						kept = resp
					}
				}
			}()
		}
		wg.Wait()
		if kept != nil {
			keep(kept)
		}
		if first != nil {
			return fail(first)
		}
		out.OK = true
		return out
	}
	if !s.Stream {
		resp := dynamicpb.NewMessage(m.Output())
		if err := conn.Invoke(ctx, s.Path, req, resp); err != nil {
			return fail(err)
		}
		keep(resp)
		out.OK = true
		return out
	}
	stream, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, s.Path)
	if err != nil {
		return fail(err)
	}
	if err := stream.SendMsg(req); err != nil {
		return fail(err)
	}
	if err := stream.CloseSend(); err != nil {
		return fail(err)
	}
	seen := map[string]bool{}
	digests := map[string]hash.Hash{}
	for {
		resp := dynamicpb.NewMessage(m.Output())
		if err := stream.RecvMsg(resp); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return fail(err)
		}
		if s.Count {
			out.Count++
			if f := resp.Descriptor().Fields().ByName("bytes"); f != nil {
				b := resp.Get(f).Bytes()
				out.Bytes += len(b)
				h := hostnameOf(resp)
				if digests[h] == nil {
					digests[h] = sha256.New()
				}
				digests[h].Write(b)
			}
		} else {
			keep(resp)
		}
		seen[hostnameOf(resp)] = true
		all := len(s.UntilHostnames) > 0
		for _, h := range s.UntilHostnames {
			all = all && seen[h]
		}
		if all || (s.MaxMessages > 0 && len(out.Messages) >= s.MaxMessages) {
			cancel()
			out.Cancelled = true
			break
		}
	}
	for h, d := range digests {
		if out.SHA256 == nil {
			out.SHA256 = map[string]string{}
		}
		out.SHA256[h] = hex.EncodeToString(d.Sum(nil))
	}
	out.OK = true
	return out
}

func main() {
	var p plan
	if err := json.NewDecoder(os.Stdin).Decode(&p); err != nil {
		fmt.Fprintln(os.Stderr, "plan:", err)
		os.Exit(2)
	}
	files, err := loadFiles(p.Descriptors)
	if err != nil {
		fmt.Fprintln(os.Stderr, "descriptors:", err)
		os.Exit(2)
	}
	// insecure: as talosctl's --insecure, the server's certificate is not verified and none is presented
	cfg := &tls.Config{InsecureSkipVerify: p.TLS.Insecure}
	if !p.TLS.Insecure {
		ca, err := os.ReadFile(p.TLS.CA)
		if err != nil {
			fmt.Fprintln(os.Stderr, "ca:", err)
			os.Exit(2)
		}
		cfg.RootCAs = x509.NewCertPool()
		cfg.RootCAs.AppendCertsFromPEM(ca)
	}
	if p.TLS.Crt != "" {
		pair, err := tls.LoadX509KeyPair(p.TLS.Crt, p.TLS.Key)
		if err != nil {
			fmt.Fprintln(os.Stderr, "client certificate:", err)
			os.Exit(2)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	conn, err := grpc.Dial(p.Endpoint,
		grpc.WithTransportCredentials(credentials.NewTLS(cfg)),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(codec{}), grpc.MaxCallRecvMsgSize(64<<20), grpc.MaxCallSendMsgSize(64<<20)),
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dial:", err)
		os.Exit(2)
	}
	defer conn.Close()
	enc := json.NewEncoder(os.Stdout)
	for _, s := range p.Steps {
		if err := enc.Encode(run(conn, files, s)); err != nil {
			os.Exit(2)
		}
	}
}
