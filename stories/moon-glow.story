# The Moon Who Lost Her Glow: the example that uses every construct of the language.
title: The Moon Who Lost Her Glow
audience: 3-6
style: soft watercolor picture book, warm pastel colors
language: en
seed: 42
music: music/lullaby.wav  # a soft tune under the whole story
use: cast/forest-friends.story  # brings voice wise-old and character Owl

voice narrator
  category: narrator
  edge: en-GB-SoniaNeural  # per-backend voice ids; a backend without one picks by category
  espeak: en-gb+f3
  rate: 0.95

voice small-girl
  category: child
  pitch: 1.1

character Luna
  description: a small silver moon with rosy cheeks and a blue nightcap
  voice: small-girl
  tags: moon, silver, rosy cheeks, blue nightcap
  reference: art/luna.png  # design image; a tagger can turn it into tags
  model: models/luna-dreambooth  # personalised weights; not trained yet, so check warns
  token: sks moon
  trainedness: 0.8  # how much of the personalised model to use, 0 to 1

character Firefly
  description: a tiny firefly with a glowing green tail
  voice: creature

scene night-falls
  title: Night falls
  setting: a quiet village at night, rooftops under bright stars
  with: Luna
  trainedness: 0.5  # every personalised character in this scene
  trainedness Luna: 0.4  # just Luna, in this scene
  camera: slow zoom in
  seed: 7
  "Every night, Luna lit up the sky above the village."
  Luna (worried): "Oh no! Where did my glow go?"
  Owl: ...  # the writer fills this line in

scene the-search
  setting: a dark forest full of fireflies
  image: Luna peeking between tall pine trees, fireflies glowing around her
  with: Luna, Firefly
  camera: pan left
  transition: crossfade
  # no lines at all: the writer makes the narration and dialogue of this scene

scene glow-again
  title: "Glow again #1"  # quoted, because '#' would start a comment
  setting: the sky above the forest, fireflies rising like sparks
  with: Luna, Firefly, Owl
  camera: slow zoom out
  duration: 9
  music: music/lullaby.wav
  Firefly (proudly): "We will lend you our light, Luna!"
  narrator (softly): ...
  Luna (glowing): "Thank you, friends. Now I can shine again."
  "And from that night on, the moon never felt alone."
