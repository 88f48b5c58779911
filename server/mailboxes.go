package server

// startMailboxes starts IMAP and POP3 (wired in when those packages land).
func (s *Server) startMailboxes() error { return nil }
