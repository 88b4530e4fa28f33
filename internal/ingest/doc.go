// Package ingest is the push API's edge: POST /api/v1/metrics takes one
// tick or an array of ticks as JSON or MessagePack, validates the whole
// request and only then publishes every tick on <prefix>.metrics.<app>.<tier>.
// A bad request publishes nothing and answers a JSON error naming the field;
// a body naming a key twice in one object or map, at any depth, is refused
// (400 on the key's path) rather than read as its last value.
//
// Scan and Parse hold the rules and take the current time as a value, so
// they are pure functions tested alone. Handler adds the HTTP guards, all
// checked before the body is read where they can be: POST only (405), an
// allowed Host (403, internal/hostcheck, against DNS rebinding), no
// foreign browser Origin (403), JSON or msgpack bodies only (415), a
// client blocked for failed authentications (429), the token (401), the
// sender's rate limit (429), a cap on concurrent
// requests, half of it per token while several are set (429), and body
// size and time (413, 408); then, tick by tick, the apps
// its token may push for (403), apps fed by another source (409), the
// sender's rate limit for the request's ticks (429; 413 beyond its burst)
// and series limits (422, internal/limits). The body is checked tick by
// tick as it arrives and decoded again to publish, so memory per request
// is bounded by its size.
//
// Tokens: Config.Token pushes for every app; each of Config.Tokens only
// for the apps it names (config.MatchApp patterns), and a request carrying
// a tick of any other is refused whole. Only the tokens' SHA-256 digests
// are kept (config.TokenDigest reads the file's "sha256:<hex>" form), and
// a bearer token's digest is compared in constant time with every one.
// Each token, or the anonymous sender when none is set, has its own token
// bucket (golang.org/x/time/rate) read at the handler's clock, so tests
// drive it without sleeping. The ticks of a request that hands none to
// the store are given back; ticks handed to it are spent, whatever the
// answer. Failed authentications are limited per client address, the
// TCP peer's (http.Request.RemoteAddr; an IPv6 one by its /64, and by
// its /48 with 16 times the allowance, lest a guesser rotate through the
// /64s), or, only when that peer is one of Config.TrustedProxies, the
// right-most address of X-Forwarded-For, or of RFC 7239 Forwarded's for
// parameters (Config.ForwardedHeader names the one read, never both),
// that is not itself a trusted proxy (what a client writes there lies
// left of what its proxy appends; from any other peer the header is
// never read): beyond
// Config.AuthFailBurst in a row and AuthFailLimit a second, every request
// from the address is refused 429 (reason auth_rate), one with the right
// token too, so a guesser is not answered while blocked. At most
// Config.AuthFailAddrs addresses and /48s are remembered, the least
// recently failing forgotten first; a forgotten address starts afresh, so
// a guesser with more addresses than that is not held back: the limit
// slows guessing from a few addresses, a long random token is what
// defeats it. RequireToken and RequireTokenOn tell a service when it must
// not start without a token; scoped tokens count as one.
package ingest
