"""storyreel's Hydra launchers: hydra-submitit-launcher's and hydra-ray-launcher's, with less waiting."""
