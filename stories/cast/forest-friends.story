# Shared cast: any story in this repository can `use:` these voices and characters.

voice wise-old
  category: elder
  espeak: en-gb+m3
  edge: en-GB-RyanNeural
  rate: 0.9
  pitch: 0.85

character Owl
  description: a round grey owl with big amber eyes and tiny reading glasses
  voice: wise-old
  tags: owl, grey feathers, amber eyes, reading glasses
