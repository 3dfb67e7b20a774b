# The shared cast: any story in this repository can `use:` these voices and characters.

voice narrator
  category: narrator
  rate: 0.95

voice bright
  category: child
  pitch: 1.1

character Kit
  description: a little red kite with a long ribbon tail
  voice: bright
