// Package gateway serves Headroom's live dashboard over WebSocket: browsers
// subscribe to subjects, get their history from JetStream, then live messages.
package gateway
