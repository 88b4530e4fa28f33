package executor

// WithGroup makes the executor share its partitions under service name
// group instead of "executor": a member of another group, which reads the
// same durables but does not see the first group's members, believes it
// owns every partition, as a member with a split view of the group does.
func WithGroup(group string) Option {
	return func(s *Service) { s.group = group }
}
