# Your first story: change anything, then `storyreel check stories` and render it.
title: The Kite Who Wanted to Fly
audience: 3-6
style: soft watercolor picture book, warm pastel colors
language: en
seed: 1
use: ../cast/friends.story  # the shared cast: the narrator's voice and Kit

character Breeze
  description: a playful little wind with swirly blue cheeks
  voice: child

scene windy-hill
  setting: a green hill on a bright spring morning, clouds drifting by
  with: Kit
  camera: slow zoom in
  "On top of the hill, a little red kite waited for the wind."
  Kit (hopeful): "Will I ever fly up high?"

scene up-high
  setting: the blue sky above the hill, the kite soaring among the clouds
  with: Kit, Breeze
  transition: crossfade
  Breeze (giggling): "Hold on tight, Kit!"
  Kit (excited): ...  # `...` asks the writer for this line
  "And Kit danced with the wind until the sun went down."
