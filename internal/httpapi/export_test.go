package httpapi

// ObservePasswordCosts makes s report the bcrypt cost of every sign-in's
// password comparison to f (the login timing test compares costs, not times).
func ObservePasswordCosts(s *Server, f func(cost int)) { s.costChecked = f }
