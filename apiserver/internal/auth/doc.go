// Package auth authenticates and authorizes the apiserver's gRPC requests.
//
// An Authenticator says who sent a request: X509Authenticator verifies the
// client certificate of the TLS connection against the client CAs (CN is the
// user name, O the groups, as in Kubernetes), TokenAuthenticator looks the
// "authorization: Bearer <token>" metadata up in a static token file
// (Kubernetes' --token-auth-file CSV format), and NewUnion tries several in
// turn, the first to find a user winning. An Authorizer then decides whether that user may do what the
// request asks (Attributes: verb, resource, namespace, name); AlwaysAllow is
// the only one so far, and the seam where RBAC will plug in.
//
// UnaryServerInterceptor and StreamServerInterceptor put the two in front of
// every RPC: a request without valid credentials fails with
// codes.Unauthenticated ("Unauthorized", the details are logged, never
// returned), a denied one with codes.PermissionDenied, and an admitted one
// reaches its handler with the *User in its context (UserFrom).
//
// Exempt methods: by default the standard health service
// (/grpc.health.v1.Health/) and server reflection
// (/grpc.reflection.v1.ServerReflection/ and its v1alpha) are served to
// anyone, authenticated or not, so that load balancers, container health
// checks and grpcurl work without credentials; they reveal nothing stored.
// Options.Exempt replaces that list (an empty, non-nil list exempts
// nothing).
//
// Streams are authorized when the handler receives the first request
// message, since only that message names the resource (a server-streaming
// handler always receives it first); a handler that sends before it
// receives is authorized on the method alone at that moment.
package auth
