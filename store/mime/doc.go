// Package mime is the store's MIME reader: it parses raw RFC 5322 / MIME
// messages (RFC 2045-2049, RFC 2183, RFC 2231) over streams, with limits,
// for the index (Parse), for readers (Render, SavePart) and for the IMAP
// server's BODYSTRUCTURE and ENVELOPE (ParseStructure, whose Structure
// the store keeps once computed: MarshalBinary, UnmarshalBinary).
//
// Everything streams: a message of any size is read once, through one
// bufio.Reader of 4 KiB per nesting level; text parts are read up to a
// cap and every other body is decoded into io.Discard. Nesting is bounded
// (MaxNesting), and so are header sizes and the number of parts. Content
// never fails a parse: what cannot be parsed is listed in Problems and the
// rest is read as well as possible. Only errors of the caller's reader
// are returned. Charsets are looked up as go-message's charset package
// looks them up and decoded with golang.org/x/text (charset.go);
// HTML-to-text is inbucket/html2text, run on a flattened copy of the HTML
// and with its panics recovered.
//
// Package mime imports no other letterbox package (package store imports
// it and re-exports the types of its own API: Address, Rendered, ...);
// its fuzz targets build MIME trees with mailgen.BuildTree.
// It holds no state between calls apart from a sync.Pool of scratch
// buffers (scratch.go: text buffers of at most 1 MiB and bufio.Readers,
// reset before each use); every function is safe for concurrent use.
// Parse does not read a text part that cannot be shown (a later branch of
// a multipart/alternative that already has text/plain): see
// (*mimeAnalysis).hidden.
package mime
